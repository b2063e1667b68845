/** Pure views for the API: seed 001's shapes and bosun's own. */
import type { NodeRecord, ServiceRecord } from '../../ports/store.js';
import type { Replica } from '../../domain/cluster.js';

export function replicaName(svc: ServiceRecord | undefined, r: Replica): string {
  return `${r.service}.${svc?.container.name ?? r.service}.${r.slot}.g${r.generation}`;
}

/** Seed 001's container states: queue | running | fail. */
export function seedState(r: Replica): string {
  if (r.state === 'running') return 'running';
  if (r.state === 'pending') return 'queue';
  if (r.state === 'stopped' || r.state === 'stopping') return r.state;
  return 'fail';
}

/** Live assignments plus failed/lost history (what seed 001's container_config held). */
export function visibleReplicas(replicas: readonly Replica[]): Replica[] {
  return replicas.filter((r) => r.desired === 'run' || r.state === 'failed' || r.state === 'lost');
}

export function isAlive(n: NodeRecord, now: number, graceMs: number): boolean {
  return now - n.lastHeartbeat <= graceMs;
}

export function seedServiceState(services: readonly ServiceRecord[], replicas: readonly Replica[]) {
  return services.filter((s) => !s.deleted).map((s) => {
    const live = replicas.filter((r) => r.service === s.name && r.desired === 'run');
    return {
      name: s.name, cimage: s.container.image, cname: s.container.name, replicas: s.replicas,
      current_state: live.filter((r) => r.state === 'running').length,
      nodes: [...new Set(live.map((r) => r.node))].sort(),
    };
  });
}

export function seedNodeState(nodes: readonly NodeRecord[], now: number, graceMs: number) {
  return nodes.map((n) => ({
    name: n.name, heart_beat_time: new Date(n.lastHeartbeat).toISOString(), free_mem: n.free.memMb, free_cpu: n.free.cpu, free_disk: n.free.diskMb,
    status: isAlive(n, now, graceMs) ? n.status : 'down',
  }));
}

export function seedContainerState(services: readonly ServiceRecord[], replicas: readonly Replica[]) {
  const byName = new Map(services.map((s) => [s.name, s]));
  return visibleReplicas(replicas).map((r) => {
    const svc = byName.get(r.service);
    return {
      name: replicaName(svc, r), state: seedState(r), node_mapping: r.node, image: svc?.container.image ?? null,
      last_state_update_time: new Date(r.updatedAt).toISOString(), service_map: r.service, generation: r.generation,
      ...(r.reason ? { reason: r.reason } : {}),
    };
  });
}

export function seedSummary(services: readonly ServiceRecord[], nodes: readonly NodeRecord[], replicas: readonly Replica[]) {
  const byName = new Map(services.map((s) => [s.name, s]));
  return {
    containers: visibleReplicas(replicas).map((r) => ({ [replicaName(byName.get(r.service), r)]: seedState(r) })),
    services: seedServiceState(services, replicas).map((s) => ({ [s.name]: `${s.current_state}/${s.replicas}` })),
    nodes: nodes.map((n) => ({ [n.name]: new Date(n.lastHeartbeat).toISOString() })),
  };
}

export function serviceView(s: ServiceRecord, replicas: readonly Replica[]) {
  const mine = replicas.filter((r) => r.service === s.name);
  return {
    name: s.name, replicas: s.replicas, version: s.version, deleted: s.deleted, container: s.container, constraints: s.constraints,
    status: s.status, createdAt: new Date(s.createdAt).toISOString(), updatedAt: new Date(s.updatedAt).toISOString(),
    assignments: visibleReplicas(mine).map((r) => ({
      name: replicaName(s, r), slot: r.slot, generation: r.generation, node: r.node, desired: r.desired, state: r.state,
      specVersion: r.specVersion, attempt: r.attempt, ...(r.reason ? { reason: r.reason } : {}), updatedAt: new Date(r.updatedAt).toISOString(),
    })),
  };
}
