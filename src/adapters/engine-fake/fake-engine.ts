/**
 * The in-memory ContainerEngine: the whole facade without processes. It passes the engine
 * contract suite's non-engine-only cases (test/contracts/engine-fake.test.ts), so unit tests of
 * bosun's logic can run against it. What a started container "does" comes from `behaviour`.
 *
 *   new FakeEngine({ images: ['nginx:1'], registry: ['redis:7'], behaviour: (spec) => ({ exitCode: 0, stdout: 'hi\n' }) })
 */
import { cpus, totalmem } from 'node:os';
import type { CallOptions, ContainerSpec, EngineCapabilities, EngineInfo } from '../../domain/engine/index.js';
import { type Clock, systemClock } from '../../ports/clock.js';
import type { ContainerEngine } from '../../ports/engine.js';
import { type Behaviour, defaultBehaviour } from './behaviour.js';
import { bounded } from './call.js';
import { FakeContainers, createContainer } from './containers.js';
import { startContainer } from './lifecycle.js';
import { FakeImages, type FakeImageSeed, seedImage } from './images.js';
import { FakeEvents, FakeExec, FakeNetworks, FakeVolumes } from './resources.js';
import { FakeState, normalizeRef } from './state.js';

export interface FakeEngineOptions {
  /** Images present at start. */
  images?: FakeImageSeed[];
  /** Images a pull can fetch (a pull of anything else fails with pull_failed). */
  registry?: FakeImageSeed[];
  /** What a started container does; default: simple commands are interpreted, others run until stopped. */
  behaviour?: Behaviour;
  clock?: Clock;
  /** What info() reports (a cluster node's capacity). */
  cpus?: number;
  memoryBytes?: number;
  name?: string;
  /** false: update() refuses as Podman 4.3 does (engine_error, details.unsupported 'update'). Default true. */
  inPlaceUpdate?: boolean;
  /** Containers that exist at start (their images are added when missing); `running` defaults to true. */
  containers?: FakeContainerSeed[];
}

export interface FakeContainerSeed {
  id?: string;
  spec: ContainerSpec;
  running?: boolean;
}

export class FakeEngine implements ContainerEngine {
  readonly containers: FakeContainers;
  readonly images: FakeImages;
  readonly networks: FakeNetworks;
  readonly volumes: FakeVolumes;
  readonly exec: FakeExec;
  readonly events: FakeEvents;
  /** The engine's memory, for tests that look behind the facade. */
  readonly state: FakeState;

  constructor(private readonly opts: FakeEngineOptions = {}) {
    const s = new FakeState(opts.clock ?? systemClock, opts.behaviour ?? defaultBehaviour);
    this.state = s;
    for (const seed of opts.images ?? []) s.addImage(seedImage(s, seed));
    for (const seed of opts.registry ?? []) {
      const img = seedImage(s, seed);
      for (const t of img.tags) s.registry.set(normalizeRef(t), img);
    }
    for (const seed of opts.containers ?? []) {
      if (!s.image(seed.spec.image)) s.addImage(seedImage(s, seed.spec.image));
      const c = createContainer(s, seed.spec, seed.id);
      if (seed.running ?? true) startContainer(s, c);
    }
    this.containers = new FakeContainers(s, opts.inPlaceUpdate ?? true);
    this.images = new FakeImages(s);
    this.networks = new FakeNetworks(s);
    this.volumes = new FakeVolumes(s);
    this.exec = new FakeExec(s);
    this.events = new FakeEvents(s);
  }

  info(o?: CallOptions): Promise<EngineInfo> {
    return bounded(o, 'info', async () => ({
      id: 'fake', name: this.opts.name ?? 'fake-engine', serverVersion: 'fake-1.0', apiVersion: '1.45',
      cpus: this.opts.cpus ?? cpus().length, memoryBytes: this.opts.memoryBytes ?? totalmem(),
      capabilities: this.caps(),
    }));
  }

  capabilities(o?: CallOptions): Promise<EngineCapabilities> {
    return bounded(o, 'capabilities', async () => this.caps());
  }

  private caps(): EngineCapabilities {
    return { inPlaceUpdate: this.opts.inPlaceUpdate ?? true };
  }
}
