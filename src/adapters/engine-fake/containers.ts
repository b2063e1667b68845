/** ContainersApi of the fake engine. */
import { BosunError } from '../../domain/errors.js';
import type {
  AttachRequest, CallOptions, CapturedOutput, ContainerDetails, ContainerSpec, ContainerSummary, ListFilter, LogsRequest, ProcessEntry,
  ResourceLimits, RestartPolicy,
} from '../../domain/engine/index.js';
import type { ContainersApi } from '../../ports/engine.js';
import { commandOf } from './behaviour.js';
import { bounded, notFound } from './call.js';
import { exitContainer, killContainer, nextExit, removeContainer, startContainer, stopContainer } from './lifecycle.js';
import { capture, feedOutput, passedLimit } from './output.js';
import { type FakeContainer, type FakeState, labelsMatch, newId } from './state.js';

const conflict = (msg: string) => new BosunError('conflict', msg, { retryable: false });

export class FakeContainers implements ContainersApi {
  constructor(private readonly s: FakeState, private readonly inPlaceUpdate = true) {}

  create(spec: ContainerSpec, o?: CallOptions): Promise<{ id: string }> {
    return bounded(o, 'create container', async () => ({ id: createContainer(this.s, spec).id }));
  }

  start(ref: string, o?: CallOptions): Promise<void> {
    return bounded(o, `start ${ref}`, async () => startContainer(this.s, this.s.mustContainer(ref)));
  }

  stop(ref: string, o?: { timeoutSec?: number } & CallOptions): Promise<void> {
    return bounded(o, `stop ${ref}`, async () => stopContainer(this.s, this.s.mustContainer(ref)));
  }

  kill(ref: string, signal?: string, o?: CallOptions): Promise<void> {
    return bounded(o, `kill ${ref}`, async () => killContainer(this.s, this.s.mustContainer(ref), signal));
  }

  restart(ref: string, o?: { timeoutSec?: number } & CallOptions): Promise<void> {
    return bounded(o, `restart ${ref}`, async () => {
      const c = this.s.mustContainer(ref);
      stopContainer(this.s, c);
      startContainer(this.s, c);
      this.s.containerEvent(c, 'restarted');
    });
  }

  remove(ref: string, o?: { force?: boolean; volumes?: boolean } & CallOptions): Promise<void> {
    return bounded(o, `remove ${ref}`, async () => {
      const c = this.s.container(ref);
      if (!c) return;
      if (c.state.running && !o?.force) throw conflict(`container ${ref} is running: stop it before removing, or force`);
      if (c.state.running) exitContainer(this.s, c, 137, true);
      if (this.s.containers.has(c.id)) removeContainer(this.s, c);
    });
  }

  wait(ref: string, o?: CallOptions): Promise<{ exitCode: number }> {
    return bounded(o, `wait ${ref}`, async () => {
      const c = this.s.mustContainer(ref);
      await nextExit(c, { now: !c.state.running, ...o, what: `wait ${ref}` });
      return { exitCode: c.state.exitCode };
    });
  }

  inspect(ref: string, o?: CallOptions): Promise<ContainerDetails | undefined> {
    return bounded(o, `inspect ${ref}`, async () => {
      const c = this.s.container(ref);
      return c ? details(c) : undefined;
    });
  }

  list(f: ListFilter = {}, o?: CallOptions): Promise<ContainerSummary[]> {
    return bounded(o, 'list containers', async () => {
      // As Docker: the pattern is tried on the name with and without its leading "/".
      const name = f.name === undefined ? undefined : new RegExp(f.name);
      return [...this.s.containers.values()]
        .filter((c) => (f.all ?? true) || f.status?.length || c.state.running)
        .filter((c) => !f.status?.length || f.status.includes(c.state.status))
        .filter((c) => labelsMatch(c.spec.labels ?? {}, f.labels))
        .filter((c) => !name || name.test(`/${c.name}`) || name.test(c.name))
        .sort((a, b) => b.createdMs - a.createdMs)
        .map(summary);
    });
  }

  update(ref: string, u: { resources?: ResourceLimits; restartPolicy?: RestartPolicy }, o?: CallOptions): Promise<void> {
    return bounded(o, `update ${ref}`, async () => {
      const c = this.s.mustContainer(ref);
      if (!this.inPlaceUpdate) throw new BosunError('engine_error', `this engine cannot update ${ref} in place`, { details: { unsupported: 'update' }, retryable: false });
      if (u.resources) c.resources = { ...c.resources, ...u.resources };
      if (u.restartPolicy) c.restartPolicy = { ...u.restartPolicy };
    });
  }

  rename(ref: string, newName: string, o?: CallOptions): Promise<void> {
    return bounded(o, `rename ${ref}`, async () => {
      const c = this.s.mustContainer(ref);
      const to = newName.replace(/^\//, '');
      const other = this.s.container(to);
      if (other && other.id !== c.id && other.name === to) throw conflict(`container name "/${to}" is already in use`);
      c.name = to;
      this.s.containerEvent(c, 'renamed');
    });
  }

  async logs(ref: string, req: LogsRequest = {}): Promise<CapturedOutput> {
    return bounded(req, `logs of ${ref}`, async () => {
      const c = this.s.mustContainer(ref);
      const feed = req.onOutput && req.follow ? feedOutput(c, 0, req.onOutput, req.stopAfterBytes) : undefined;
      try {
        if (req.follow) await nextExit(c, { now: !c.state.running, until: () => passedLimit(c.chunks, req.stopAfterBytes), ...(req.signal ? { signal: req.signal } : {}), what: `logs of ${ref}` });
      } finally {
        feed?.();
      }
      return capture(c.chunks, req);
    });
  }

  async attach(ref: string, req: AttachRequest = {}): Promise<{ output: Promise<CapturedOutput> }> {
    const c = this.s.mustContainer(ref);
    const from = c.chunks.length;
    const since = () => c.chunks.slice(from);
    // As Docker: stdin reaches only a container created to take it.
    if (req.stdin !== undefined && c.spec.openStdin) c.stdin = req.stdin.toString();
    const feed = req.onOutput ? feedOutput(c, from, req.onOutput, req.stopAfterBytes) : undefined;
    const output = nextExit(c, { until: () => passedLimit(since(), req.stopAfterBytes), ...(req.signal ? { signal: req.signal } : {}), ...(req.timeoutMs !== undefined ? { timeoutMs: req.timeoutMs } : {}), what: `attach to ${ref}` })
      .then(() => capture(since(), req))
      .finally(() => feed?.());
    output.catch(() => undefined);
    return { output };
  }

  top(ref: string, o?: CallOptions): Promise<ProcessEntry[]> {
    return bounded(o, `top ${ref}`, async () => {
      const c = this.s.mustContainer(ref);
      if (!c.state.running) throw conflict(`container ${ref} is not running`);
      return [{ pid: '1', user: c.spec.user || 'root', command: commandOf(c.spec).join(' ') }];
    });
  }
}

/** Creates the container record (also used to seed a fake with containers that already exist). */
export function createContainer(s: FakeState, spec: ContainerSpec, id = newId()): FakeContainer {
  const image = s.image(spec.image);
  if (!image) throw new BosunError('image_not_found', `no such image: ${spec.image}`, { retryable: false });
  const name = spec.name ?? `fake_${id.slice(0, 12)}`;
  if (s.container(name)?.name === name) throw conflict(`container name "/${name}" is already in use`);
  const wanted = spec.networks ?? [];
  for (const n of wanted) if (!s.network(n.name)) throw notFound(`network ${n.name}`);
  for (const m of spec.mounts ?? []) if (m.type === 'volume' && m.source && !s.volumes.has(m.source)) s.volumes.set(m.source, {});
  const c: FakeContainer = {
    id, name, spec: structuredClone(spec), imageId: image.id, createdMs: s.clock.now(),
    state: { status: 'created', running: false, exitCode: 0, oomKilled: false, restartCount: 0, ...(spec.healthcheck ? { health: 'starting' as const } : {}) },
    resources: { ...(spec.resources ?? {}) }, restartPolicy: spec.restartPolicy ?? { name: 'no' }, networks: {}, chunks: [], files: new Map(s.imageFiles.get(image.id) ?? []), manuallyStopped: false, listeners: new Set(),
  };
  const mode = spec.networkMode ?? (wanted.length ? wanted[0]!.name : 'bridge');
  const modeNet = wanted.length ? undefined : s.network(mode);
  if (modeNet) s.attachNetwork(c, modeNet, []);
  for (const n of wanted) s.attachNetwork(c, s.network(n.name)!, n.aliases ?? []);
  s.containers.set(id, c);
  s.containerEvent(c, 'created');
  return c;
}

export function details(c: FakeContainer): ContainerDetails {
  const sp = c.spec;
  return structuredClone({
    id: c.id, name: c.name, image: sp.image, imageId: c.imageId, created: new Date(c.createdMs).toISOString(), state: c.state,
    labels: sp.labels ?? {}, cmd: sp.cmd ?? [], entrypoint: sp.entrypoint ?? [], env: sp.env ?? [], workingDir: sp.workingDir ?? '', user: sp.user ?? '',
    exposedPorts: [...new Set([...(sp.exposedPorts ?? []), ...(sp.portBindings ?? []).map((p) => p.containerPort)])],
    portBindings: sp.portBindings ?? [], mounts: sp.mounts ?? [], links: sp.links ?? [], networkMode: sp.networkMode ?? (sp.networks?.[0]?.name ?? 'bridge'),
    networks: c.networks, restartPolicy: c.restartPolicy, resources: c.resources,
    ...(sp.healthcheck ? { healthcheck: sp.healthcheck } : {}), ...(sp.stopSignal ? { stopSignal: sp.stopSignal } : {}),
    ...(sp.stopTimeoutSec !== undefined ? { stopTimeoutSec: sp.stopTimeoutSec } : {}), privileged: sp.privileged ?? false,
  });
}

function summary(c: FakeContainer): ContainerSummary {
  return structuredClone({
    id: c.id, name: c.name, image: c.spec.image, imageId: c.imageId, status: c.state.status, labels: c.spec.labels ?? {}, created: Math.floor(c.createdMs / 1000),
    networks: Object.fromEntries(Object.entries(c.networks).map(([k, v]) => [k, v.ipAddress])),
    ports: (c.spec.portBindings ?? []).map((p) => {
      const [port, type] = p.containerPort.split('/');
      return { privatePort: Number(port), type: type ?? 'tcp', ...(p.hostPort ? { publicPort: Number(p.hostPort) } : {}), ...(p.hostIp ? { ip: p.hostIp } : {}) };
    }),
    ...(c.state.status === 'exited' ? { exitCode: c.state.exitCode } : {}),
  });
}
