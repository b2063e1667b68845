/** The fake engine's memory: containers, images, networks, volumes and the event log. */
import { randomBytes } from 'node:crypto';
import type {
  ContainerSpec, ContainerState, EngineEvent, EngineEventKind, EngineResource, ImageDetails, ResourceLimits, RestartPolicy,
} from '../../domain/engine/index.js';
import type { Clock } from '../../ports/clock.js';
import type { Behaviour, FileIO } from './behaviour.js';
import { notFound } from './call.js';
import type { Chunk } from './output.js';

export interface FakeContainer {
  id: string;
  name: string;
  spec: ContainerSpec;
  imageId: string;
  createdMs: number;
  state: ContainerState;
  resources: ResourceLimits;
  restartPolicy: RestartPolicy;
  networks: Record<string, { ipAddress: string; aliases: string[] }>;
  chunks: Chunk[];
  /** Written by an attach (openStdin): what the next start's process reads on stdin. */
  stdin?: string;
  /** Its own files (a copy of its image's at create); volume mounts resolve to the volume's. */
  files: Map<string, string>;
  /** Ends the current run (its exit timer); set while running. */
  timer?: NodeJS.Timeout;
  healthTimer?: NodeJS.Timeout;
  /** Stopped by a caller: restart policies other than `always` leave it stopped. */
  manuallyStopped: boolean;
  /** Called on every exit, and on every new chunk (readers that stop past a byte limit). */
  listeners: Set<(why: 'exit' | 'chunk') => void>;
}

export interface FakeNetwork {
  id: string;
  name: string;
  labels: Record<string, string>;
  subnet: number;
  nextHost: number;
}

export const newId = (): string => randomBytes(32).toString('hex');

/** `name:latest` for a reference without a tag (or digest). */
export function normalizeRef(ref: string): string {
  const last = ref.split('/').at(-1) ?? ref;
  return last.includes(':') || last.includes('@') ? ref : `${ref}:latest`;
}

export class FakeState {
  readonly containers = new Map<string, FakeContainer>();
  /** Tag → image. */
  readonly images = new Map<string, ImageDetails>();
  /** Tag → the image a pull would fetch. */
  readonly registry = new Map<string, ImageDetails>();
  readonly networks = new Map<string, FakeNetwork>();
  readonly volumes = new Map<string, Record<string, string>>();
  /** Files written by a build's RUN steps (image id → path → text), and those in volumes. */
  readonly imageFiles = new Map<string, Map<string, string>>();
  readonly volumeFiles = new Map<string, Map<string, string>>();
  readonly history: EngineEvent[] = [];
  private readonly subscribers = new Set<(ev: EngineEvent) => void>();
  private lastNano = 0n;
  private subnets = 16;

  constructor(readonly clock: Clock, readonly behaviour: Behaviour) {
    for (const name of ['bridge', 'host', 'none']) this.addNetwork(name, {});
  }

  iso(): string {
    return new Date(this.clock.now()).toISOString();
  }

  container(ref: string): FakeContainer | undefined {
    const byName = ref.replace(/^\//, '');
    const direct = this.containers.get(ref);
    if (direct) return direct;
    for (const c of this.containers.values()) if (c.name === byName) return c;
    if (ref.length >= 4) {
      const hits = [...this.containers.values()].filter((c) => c.id.startsWith(ref));
      if (hits.length === 1) return hits[0];
    }
    return undefined;
  }

  mustContainer(ref: string): FakeContainer {
    const c = this.container(ref);
    if (!c) throw notFound(`container ${ref}`);
    return c;
  }

  image(ref: string): ImageDetails | undefined {
    const tagged = this.images.get(normalizeRef(ref));
    if (tagged) return tagged;
    for (const img of this.images.values()) if (img.id === ref || img.id === `sha256:${ref}`) return img;
    return undefined;
  }

  addImage(img: ImageDetails): void {
    for (const t of img.tags) {
      const old = this.images.get(t);
      if (old && old.id !== img.id) old.tags = old.tags.filter((x) => x !== t);
      this.images.set(t, img);
    }
  }

  addNetwork(name: string, labels: Record<string, string>): FakeNetwork {
    const net: FakeNetwork = { id: newId(), name, labels, subnet: this.subnets++, nextHost: 2 };
    this.networks.set(name, net);
    return net;
  }

  network(ref: string): FakeNetwork | undefined {
    return this.networks.get(ref) ?? [...this.networks.values()].find((n) => n.id === ref || (ref.length >= 4 && n.id.startsWith(ref)));
  }

  attachNetwork(c: FakeContainer, net: FakeNetwork, aliases: string[]): void {
    if (c.networks[net.name]) return;
    c.networks[net.name] = { ipAddress: net.name === 'host' || net.name === 'none' ? '' : `172.${net.subnet}.0.${net.nextHost++}`, aliases };
  }

  /** Records an event; its time is the clock's, made unique and increasing (the resume point). */
  emit(resource: EngineResource, kind: EngineEventKind, id: string, extra: Partial<EngineEvent> = {}, attributes: Record<string, string> = {}): void {
    const at = BigInt(this.clock.now()) * 1_000_000n + 1n;
    this.lastNano = at > this.lastNano ? at : this.lastNano + 1n;
    const ev: EngineEvent = { resource, kind, id, ...extra, timeNano: this.lastNano, attributes };
    this.history.push(ev);
    if (this.history.length > 10_000) this.history.splice(0, this.history.length - 10_000);
    for (const s of this.subscribers) s(ev);
  }

  containerEvent(c: FakeContainer, kind: EngineEventKind, extra: Partial<EngineEvent> = {}): void {
    const attributes: Record<string, string> = { ...(c.spec.labels ?? {}), name: c.name, image: c.spec.image };
    if (extra.exitCode !== undefined) attributes.exitCode = String(extra.exitCode);
    this.emit('container', kind, c.id, { name: c.name, ...extra }, attributes);
  }

  /** The files a container's process sees: volume mounts first (longest target), then its own. */
  filesOf(c: FakeContainer): FileIO {
    const mounts = (c.spec.mounts ?? []).filter((m) => m.type === 'volume' && m.source).sort((a, b) => b.target.length - a.target.length);
    const where = (path: string): [Map<string, string>, string] => {
      for (const m of mounts) {
        if (path === m.target || path.startsWith(`${m.target}/`)) {
          const store = this.volumeFiles.get(m.source!) ?? new Map<string, string>();
          this.volumeFiles.set(m.source!, store);
          return [store, path.slice(m.target.length)];
        }
      }
      return [c.files, path];
    };
    return filesIn(where);
  }

  subscribe(fn: (ev: EngineEvent) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }
}

export function labelsMatch(have: Record<string, string>, want: Record<string, string | true> | undefined): boolean {
  return Object.entries(want ?? {}).every(([k, v]) => (v === true ? k in have : have[k] === v));
}

export function filesIn(where: (path: string) => [Map<string, string>, string]): FileIO {
  return {
    read: (path) => {
      const [store, key] = where(path);
      return store.get(key);
    },
    write: (path, data, append) => {
      const [store, key] = where(path);
      store.set(key, (append ? (store.get(key) ?? '') : '') + data);
    },
  };
}
