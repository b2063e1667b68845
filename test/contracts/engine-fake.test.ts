/** The engine contract against the in-memory fake: every case that needs no real process. */
import { createEngine } from '../../src/adapters/engine-factory.js';
import { TEST_IMAGE } from '../helpers/docker.js';
import { engineContract } from './engine.contract.js';

engineContract('fake', () => createEngine({ kind: 'fake', fake: { images: [{ ref: TEST_IMAGE, labels: { 'bosun.test': 'true' } }] } }), { real: false });
