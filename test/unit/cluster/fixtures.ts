import type { NodeView, Plan, Replica, ServiceSpec } from '../../../src/domain/cluster.js';
import { reconcile } from '../../../src/planner/cluster/reconcile.js';
import { applyPlan, applyUpdates } from '../../../src/planner/cluster/observe.js';

export const NOW = 1_000_000;

export function node(name: string, over: Partial<NodeView> = {}): NodeView {
  return { name, labels: {}, free: { cpu: 4000, memMb: 8192, diskMb: 100_000 }, status: 'ready', lastHeartbeat: NOW, ...over };
}

export function service(name: string, replicas: number, over: Partial<ServiceSpec> = {}): ServiceSpec {
  return { name, replicas, container: { name, image: 'img:1' }, constraints: [], version: 1, deleted: false, ...over };
}

export function replica(service: string, slot: number, nodeName: string, over: Partial<Replica> = {}): Replica {
  return { service, slot, generation: 1, node: nodeName, specVersion: 1, desired: 'run', state: 'running', attempt: 0, notBefore: 0, updatedAt: NOW - 10_000, ...over };
}

export function live(rs: readonly Replica[], svc?: string): Replica[] {
  return rs.filter((r) => r.desired === 'run' && (svc === undefined || r.service === svc));
}

/** Runs reconcile → apply → "every pending replica starts" until nothing changes. */
export function converge(services: ServiceSpec[], nodes: NodeView[], start: Replica[] = [], now = NOW, rounds = 10): { replicas: Replica[]; last: Plan } {
  let replicas = start;
  let last: Plan = reconcile({ services, replicas, nodes, now });
  for (let i = 0; i < rounds; i++) {
    // nodes do their work: pending replicas start, orderly stops complete
    replicas = applyUpdates(replicas, live(replicas).filter((r) => r.state === 'pending').map((r) => ({ service: r.service, slot: r.slot, generation: r.generation, state: 'running' as const })), now);
    replicas = applyUpdates(replicas, replicas.filter((r) => r.state === 'stopping').map((r) => ({ service: r.service, slot: r.slot, generation: r.generation, state: 'stopped' as const })), now);
    last = reconcile({ services, replicas, nodes, now });
    if (last.place.length === 0 && last.stop.length === 0) break;
    replicas = applyPlan(replicas, last, now);
  }
  return { replicas, last };
}
