/** Networks, volumes, exec and the event stream of the fake engine. */
import { BosunError } from '../../domain/errors.js';
import type { CallOptions, EngineEvent, EventsRequest, ExecRequest, ExecResult, NetworkSpec, PreparedExec, VolumeDetails } from '../../domain/engine/index.js';
import type { EventsApi, ExecApi, NetworksApi, VolumesApi } from '../../ports/engine.js';
import { PreparedExecs } from '../prepared-execs.js';
import { bounded, notFound } from './call.js';
import { capture, feedOutput } from './output.js';
import { type FakeState, labelsMatch } from './state.js';

const conflict = (msg: string) => new BosunError('conflict', msg, { retryable: false });

export class FakeNetworks implements NetworksApi {
  constructor(private readonly s: FakeState) {}

  ensure(spec: NetworkSpec, o?: CallOptions): Promise<string> {
    return bounded(o, `ensure network ${spec.name}`, async () => {
      const have = this.s.networks.get(spec.name);
      if (have) return have.id;
      const net = this.s.addNetwork(spec.name, { ...(spec.labels ?? {}) });
      this.s.emit('network', 'created', net.id, { name: net.name }, { name: net.name, ...net.labels });
      return net.id;
    });
  }

  remove(name: string, o?: CallOptions): Promise<void> {
    return bounded(o, `remove network ${name}`, async () => {
      const net = this.s.network(name);
      if (!net) return;
      if ([...this.s.containers.values()].some((c) => c.networks[net.name])) throw conflict(`network ${name} has active endpoints`);
      this.s.networks.delete(net.name);
      this.s.emit('network', 'destroyed', net.id, { name: net.name }, { name: net.name });
    });
  }

  connect(network: string, container: string, o?: { aliases?: string[] } & CallOptions): Promise<void> {
    return bounded(o, `connect ${container} to ${network}`, async () => {
      const net = this.s.network(network);
      if (!net) throw notFound(`network ${network}`);
      const c = this.s.mustContainer(container);
      if (c.networks[net.name]) return;
      this.s.attachNetwork(c, net, o?.aliases ?? []);
      this.s.emit('network', 'connected', net.id, { name: net.name, containerId: c.id }, { name: net.name, container: c.id });
    });
  }

  disconnect(network: string, container: string, o?: { force?: boolean } & CallOptions): Promise<void> {
    return bounded(o, `disconnect ${container} from ${network}`, async () => {
      const net = this.s.network(network);
      if (!net) throw notFound(`network ${network}`);
      const c = this.s.mustContainer(container);
      if (!c.networks[net.name]) return;
      delete c.networks[net.name];
      this.s.emit('network', 'disconnected', net.id, { name: net.name, containerId: c.id }, { name: net.name, container: c.id });
    });
  }
}

export class FakeVolumes implements VolumesApi {
  constructor(private readonly s: FakeState) {}

  ensure(name: string, labels: Record<string, string> = {}, o?: CallOptions): Promise<{ created: boolean }> {
    return bounded(o, `ensure volume ${name}`, async () => {
      if (this.s.volumes.has(name)) return { created: false };
      this.s.volumes.set(name, { ...labels });
      this.s.emit('volume', 'created', name, { name }, { ...labels });
      return { created: true };
    });
  }

  remove(name: string, o?: CallOptions): Promise<void> {
    return bounded(o, `remove volume ${name}`, async () => {
      if (!this.s.volumes.has(name)) return;
      const used = [...this.s.containers.values()].some((c) => (c.spec.mounts ?? []).some((m) => m.type === 'volume' && m.source === name));
      if (used) throw conflict(`volume ${name} is in use`);
      this.s.volumes.delete(name);
      this.s.volumeFiles.delete(name);
      this.s.emit('volume', 'destroyed', name, { name });
    });
  }

  inspect(name: string, o?: CallOptions): Promise<VolumeDetails | undefined> {
    return bounded(o, `inspect volume ${name}`, async () => {
      const labels = this.s.volumes.get(name);
      return labels ? { name, labels: { ...labels } } : undefined;
    });
  }
}

/** exec runs the command through the engine's behaviour, as if it were a container of its own. */
export class FakeExec implements ExecApi {
  constructor(private readonly s: FakeState) {}

  /** As Docker: a prepared exec keeps its command and environment, and belongs to one run of its container (a stop drops it). */
  private readonly book = new PreparedExecs<{ container: string; startedAt: string | undefined; cmd: string[]; env: string[] | undefined }>();
  private count = 0;

  prepare(ref: string, req: ExecRequest): Promise<PreparedExec> {
    return bounded(req, `exec in ${ref}`, async () => {
      const c = this.s.mustContainer(ref);
      if (!c.state.running) throw conflict(`container ${ref} is not running`);
      return this.book.record(req, { id: `fake-exec-${++this.count}` }, { container: c.id, startedAt: c.state.startedAt, cmd: req.cmd, env: req.env });
    });
  }

  run(ref: string, given: ExecRequest): Promise<ExecResult> {
    return bounded(given, `exec in ${ref}`, async () => {
      const made = given.prepared ? this.book.start(given.prepared, given) : undefined;
      const c = this.s.mustContainer(ref);
      if (given.prepared && (made?.container !== c.id || !c.state.running || made.startedAt !== c.state.startedAt)) throw notFound(`exec instance ${given.prepared.id} in ${ref}`);
      // A prepared exec keeps what it was made with; the rest (limits, stdin's bytes, callbacks) is the run's.
      const req: ExecRequest = made ? { ...given, cmd: made.cmd, env: made.env } : given;
      if (!c.state.running) throw conflict(`container ${ref} is not running`);
      // An exec's stdin is /dev/null unless the caller writes one.
      const o = this.s.behaviour({ ...c.spec, entrypoint: [], cmd: req.cmd, ...(req.env ? { env: [...(c.spec.env ?? []), ...req.env] } : {}) }, this.s.filesOf(c), req.stdin?.toString() ?? '');
      const now = this.s.clock.now();
      const chunks = [
        ...(o.stdout ? [{ stream: 'stdout' as const, data: o.stdout, timeMs: now }] : []),
        ...(o.stderr ? [{ stream: 'stderr' as const, data: o.stderr, timeMs: now }] : []),
      ];
      if (req.detach) return { output: capture([]) };
      req.onStarted?.();
      if (req.onOutput) feedOutput({ chunks, listeners: new Set() }, 0, req.onOutput, req.stopAfterBytes)();
      return { exitCode: o.exitCode ?? 0, output: capture(chunks) };
    });
  }
}

export class FakeEvents implements EventsApi {
  constructor(private readonly s: FakeState) {}

  async *stream(req: EventsRequest): AsyncIterable<EngineEvent> {
    const match = (ev: EngineEvent) => (!req.resources?.length || req.resources.includes(ev.resource)) && labelsMatch(ev.attributes, req.labels);
    const queue: EngineEvent[] = [];
    let wake: (() => void) | undefined;
    const since = req.sinceNano;
    if (since !== undefined) queue.push(...this.s.history.filter((ev) => ev.timeNano > since && match(ev)));
    const unsubscribe = this.s.subscribe((ev) => {
      if (!match(ev)) return;
      queue.push(ev);
      wake?.();
    });
    let timedOut = false;
    const timer = req.timeoutMs === undefined ? undefined : setTimeout(() => ((timedOut = true), wake?.()), req.timeoutMs);
    const onAbort = () => wake?.();
    req.signal.addEventListener('abort', onAbort);
    try {
      for (;;) {
        if (req.signal.aborted) return;
        if (timedOut) throw new BosunError('timeout', `event stream: timed out after ${req.timeoutMs} ms`, { retryable: true });
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    } finally {
      unsubscribe();
      clearTimeout(timer);
      req.signal.removeEventListener('abort', onAbort);
    }
  }
}
