/**
 * The engine contract against the in-memory fake. First as an engine without processes
 * (engine-only cases skipped); then refusing in-place updates as Podman 4.3 does, with the
 * engine-only cases run too: their scripts (echo > file, cat, a RUN in a build, a volume
 * written by one container and read by the next, exec, top) are within what the fake's
 * default behaviour models. They stay engine-only in the contract: there they prove real
 * processes; here they prove the fake keeps to the same outcomes.
 */
import { createEngine } from '../../src/adapters/engine-factory.js';
import type { FakeEngineOptions } from '../../src/adapters/engine-fake/index.js';
import { TEST_IMAGE } from '../helpers/docker.js';
import { engineContract } from './engine.contract.js';

const fake = (o: FakeEngineOptions = {}) => () => createEngine({ kind: 'fake', fake: { images: [{ ref: TEST_IMAGE, labels: { 'bosun.test': 'true' } }], ...o } });

engineContract('fake', fake(), { real: false });
engineContract('fake, no in-place update, engine-only cases modelled', fake({ inPlaceUpdate: false }), { real: true, inPlaceUpdate: false });
