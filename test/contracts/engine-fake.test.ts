/**
 * The engine contract against the in-memory fake: every case that needs no real process.
 * Run twice: as Docker behaves, and refusing in-place updates as Podman 4.3 does.
 */
import { createEngine } from '../../src/adapters/engine-factory.js';
import type { FakeEngineOptions } from '../../src/adapters/engine-fake/index.js';
import { TEST_IMAGE } from '../helpers/docker.js';
import { engineContract } from './engine.contract.js';

const fake = (o: FakeEngineOptions = {}) => () => createEngine({ kind: 'fake', fake: { images: [{ ref: TEST_IMAGE, labels: { 'bosun.test': 'true' } }], ...o } });

engineContract('fake', fake(), { real: false });
engineContract('fake, no in-place update', fake({ inPlaceUpdate: false }), { real: false, inPlaceUpdate: false });
