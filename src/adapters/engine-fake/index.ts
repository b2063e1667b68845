export { FakeEngine, type FakeContainerSeed, type FakeEngineOptions } from './fake-engine.js';
export { defaultBehaviour, interpret, type Behaviour, type BehaviourOutcome } from './behaviour.js';
export type { FakeImageSeed } from './images.js';
