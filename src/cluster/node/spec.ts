/** Pure mapping from a run order to the Docker container spec and back from labels. */
import { LABEL } from '../../domain/labels.js';
import type { ContainerSpec, ContainerSummary, Mount, PortBinding } from '../../domain/engine/index.js';
import type { ReportedContainer } from '../../planner/cluster/observe.js';
import type { Resources } from '../../domain/cluster.js';
import type { RunMessage } from '../protocol.js';

export const RESOURCES_LABEL = 'bosun.resources';

export function replicaContainerName(m: Pick<RunMessage, 'service' | 'slot' | 'generation' | 'container'>): string {
  // never cut: the slot and generation at the end keep replicas apart (names are ≤ 63 each, Docker takes more)
  return `${m.service}.${m.container.name}.${m.slot}.g${m.generation}`;
}

export function containerSpecFor(m: RunMessage, node: string): ContainerSpec {
  const t = m.container;
  // the resources label tells the node what a replica reserves: only bosun sets it (identity labels are overwritten below)
  const userLabels = Object.fromEntries(Object.entries(t.labels ?? {}).filter(([k]) => k !== RESOURCES_LABEL));
  const labels: Record<string, string> = {
    ...userLabels,
    [LABEL.managed]: 'true',
    [LABEL.service]: m.service,
    [LABEL.replica]: String(m.slot),
    [LABEL.generation]: String(m.generation),
    [LABEL.node]: node,
    [LABEL.specHash]: String(m.specVersion),
  };
  if (t.resources) labels[RESOURCES_LABEL] = JSON.stringify(t.resources);
  const spec: ContainerSpec = { name: replicaContainerName(m), image: t.image, labels, restartPolicy: { name: 'no' } };
  if (t.env) spec.env = t.env;
  if (t.cmd) spec.cmd = t.cmd;
  if (t.ports && t.ports.length > 0) {
    spec.exposedPorts = [];
    spec.portBindings = [];
    for (const p of t.ports) {
      const b = parsePort(p);
      spec.exposedPorts.push(b.containerPort);
      spec.portBindings.push(b);
    }
  }
  if (t.volumes && t.volumes.length > 0) spec.mounts = t.volumes.map(parseVolume);
  if (t.resources) {
    spec.resources = {};
    if (t.resources.cpu > 0) spec.resources.nanoCpus = Math.round(t.resources.cpu * 1e6);
    if (t.resources.memMb > 0) spec.resources.memory = Math.round(t.resources.memMb * 1024 * 1024);
  }
  return spec;
}

/** "[hostIp:]hostPort:containerPort[/proto]" (PORT_RE) → a binding; no host IP means all interfaces, as Docker does. */
export function parsePort(p: string): PortBinding {
  let rest = p;
  let hostIp: string | undefined;
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    hostIp = rest.slice(1, end);
    rest = rest.slice(end + 2);
  }
  const parts = rest.split(':');
  if (hostIp === undefined && parts.length === 3) hostIp = parts.shift();
  const containerPart = parts.pop() ?? '';
  const hostPort = parts.pop() ?? '';
  const containerPort = containerPart.includes('/') ? containerPart : `${containerPart}/tcp`;
  return { containerPort, hostPort, ...(hostIp ? { hostIp } : {}) };
}

/** "source:target[:ro|rw]" (VOLUME_RE): an absolute source is a bind of a host path, otherwise a named volume. */
export function parseVolume(v: string): Mount {
  const [source = '', target = '', mode] = v.split(':');
  return { type: source.startsWith('/') ? 'bind' : 'volume', source, target, ...(mode === 'ro' ? { readOnly: true } : {}) };
}

/** The (service, slot, generation) a container belongs to, from its labels; undefined if not a replica. */
export function identityOf(labels: Record<string, string>): { service: string; slot: number; generation: number } | undefined {
  const service = labels[LABEL.service];
  const slot = Number(labels[LABEL.replica]);
  const generation = Number(labels[LABEL.generation]);
  if (!service || !Number.isInteger(slot) || !Number.isInteger(generation)) return undefined;
  return { service, slot, generation };
}

export function reportOf(c: ContainerSummary): ReportedContainer | undefined {
  const id = identityOf(c.labels);
  // the listing's exit code too: a heartbeat may report an exit before the die event does
  return id ? { ...id, status: c.status, ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}) } : undefined;
}

export function requestedOf(labels: Record<string, string>): Resources {
  try {
    const r = JSON.parse(labels[RESOURCES_LABEL] ?? '') as Partial<Resources>;
    return { cpu: Number(r.cpu ?? 0), memMb: Number(r.memMb ?? 0), diskMb: Number(r.diskMb ?? 0) };
  } catch {
    return { cpu: 0, memMb: 0, diskMb: 0 };
  }
}
