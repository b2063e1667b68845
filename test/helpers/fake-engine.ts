/**
 * The shared in-memory engine (src/adapters/engine-fake, which passes the engine contract's
 * non-engine-only cases) seeded for unit tests: containers that already exist, the images
 * they run, and optionally what started containers do.
 */
import { FakeEngine, type Behaviour, type FakeEngineOptions } from '../../src/adapters/engine-fake/index.js';
import { LABEL } from '../../src/domain/labels.js';
import { TEST_IMAGE } from './docker.js';

export interface FakeContainer {
  id: string;
  name: string;
  labels?: Record<string, string>;
  running?: boolean;
  image?: string;
}

/** The image every fake has unless told otherwise (the tests' busybox, labelled as the real one is). */
export const FAKE_IMAGE = TEST_IMAGE;

export function fakeEngine(containers: FakeContainer[] = [], opts: FakeEngineOptions & { behaviour?: Behaviour } = {}): FakeEngine {
  return new FakeEngine({
    ...opts,
    images: [{ ref: FAKE_IMAGE, labels: { [LABEL.test]: 'true' } }, ...(opts.images ?? [])],
    containers: [
      ...containers.map((c) => ({ id: c.id, spec: { name: c.name, image: c.image ?? FAKE_IMAGE, ...(c.labels ? { labels: c.labels } : {}) }, running: c.running ?? true })),
      ...(opts.containers ?? []),
    ],
  });
}
