/**
 * The cluster reconciler: desired services + known assignments + nodes + `now` → a Plan.
 * Per service: classify the slots into sets (reconcile-slots.ts), place the vacant ones,
 * then move drained and outdated replicas within the update budget.
 * Pure and deterministic. Invariants (property-tested):
 * - after the plan, each slot has at most one assignment that wants to run, and no service
 *   has more than `replicas` of them;
 * - an old replica is stopped for a drain or an update only when its successor can be placed,
 *   and the successor is placed only once the node confirmed the stop (stop-first: never N+1).
 */
import { classifySlots, groupSlots, stopOf, type PassView, type SlotInfo, type SlotSets, type Vacancy } from './reconcile-slots.js';
import { Scheduler } from './scheduler.js';
import type { NodeView, Placement, Plan, PlannerConfig, Replica, ServiceSpec } from '../../domain/cluster.js';
import { DEFAULT_PLANNER_CONFIG } from '../../domain/cluster.js';

export interface ReconcileInput {
  services: readonly ServiceSpec[];
  replicas: readonly Replica[];
  nodes: readonly NodeView[];
  now: number;
  config?: Partial<PlannerConfig> & { pendingTimeoutMs?: number };
}

export { backoffDelay, nextAttempt } from './reconcile-slots.js';

/** Where one pass puts its decisions, and what it decides them on. */
interface Pass extends PassView {
  plan: Plan;
  scheduler: Scheduler;
  aliveCount: number;
}

export function reconcile(input: ReconcileInput): Plan {
  const cfg: PlannerConfig = { ...DEFAULT_PLANNER_CONFIG, ...input.config };
  const { now } = input;
  const plan: Plan = { place: [], stop: [], unplaced: [], delayed: [], deadNodes: [], purge: [] };
  const dead = new Set<string>();
  const alive: NodeView[] = [];
  for (const n of input.nodes) {
    if (now - n.lastHeartbeat > cfg.heartbeatGraceMs) dead.add(n.name);
    else alive.push(n);
  }
  plan.deadNodes = [...dead].sort();
  const pass: Pass = {
    cfg, now, dead, plan, pendingTimeoutMs: input.config?.pendingTimeoutMs ?? 30_000,
    aliveByName: new Map(alive.map((n) => [n.name, n])), scheduler: new Scheduler(alive), aliveCount: alive.length,
  };
  const services = [...input.services].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const svcByName = new Map(services.map((s) => [s.name, s]));
  const slotsBySvc = groupSlots(input.replicas);
  accountLive(pass, slotsBySvc, svcByName);
  stopUnknownServices(pass, slotsBySvc, svcByName);
  for (const svc of services) reconcileService(pass, svc, slotsBySvc.get(svc.name) ?? new Map<number, SlotInfo>());
  return plan;
}

/** Every live replica on a live node holds its room before anything is decided. */
function accountLive(p: Pass, slotsBySvc: Map<string, Map<number, SlotInfo>>, svcByName: Map<string, ServiceSpec>): void {
  for (const [svcName, slots] of slotsBySvc) {
    const svc = svcByName.get(svcName);
    for (const { live: r } of slots.values()) {
      if (r && p.aliveByName.has(r.node)) p.scheduler.account(r.node, svcName, svc?.container, r.state === 'pending');
    }
  }
}

/** Assignments of services nobody wants any more (not even as deleted). */
function stopUnknownServices(p: Pass, slotsBySvc: Map<string, Map<number, SlotInfo>>, svcByName: Map<string, ServiceSpec>): void {
  for (const [svcName, slots] of slotsBySvc) {
    if (svcByName.has(svcName)) continue;
    for (const info of slots.values()) if (info.live) p.plan.stop.push(stopOf(info.live, p.dead, 'stopping', 'service unknown'));
  }
}

function reconcileService(p: Pass, svc: ServiceSpec, slots: Map<number, SlotInfo>): void {
  const sets = classifySlots(svc, slots, p);
  p.plan.stop.push(...sets.stop);
  const placed = placeVacancies(p, svc, slots, sets.vacant);
  const inFlight = sets.pendingCurrent + placed.inFlight;
  const unhealthy = sets.pending + placed.unhealthy;
  // updates go on only while the rest is healthy
  moveReplicas(p, svc, sets, unhealthy - inFlight > 0 ? 0 : p.cfg.maxParallelUpdates - inFlight);
  if (svc.deleted && ![...slots.values()].some((i) => i.live)) p.plan.purge.push(svc.name);
}

/** Fills the vacant slots that are due; each one placed, delayed or unplaced counts as not healthy yet. */
function placeVacancies(p: Pass, svc: ServiceSpec, slots: Map<number, SlotInfo>, vacant: readonly Vacancy[]): { inFlight: number; unhealthy: number } {
  let inFlight = 0;
  for (const v of vacant) {
    if (v.notBefore > p.now) {
      p.plan.delayed.push({ service: svc.name, slot: v.slot, notBefore: v.notBefore });
      continue;
    }
    const pick = p.scheduler.pick(svc);
    if (!pick.node) {
      p.plan.unplaced.push({ service: svc.name, slot: v.slot, reason: refusalText(pick.refused, p.aliveCount), refused: pick.refused });
      continue;
    }
    p.scheduler.take(svc, pick.node);
    const generation = (slots.get(v.slot)?.maxGeneration ?? 0) + 1;
    const placement: Placement = { service: svc.name, slot: v.slot, generation, node: pick.node, specVersion: svc.version, attempt: v.attempt, why: { score: pick.score, refused: pick.refused, feasible: pick.feasible } };
    p.plan.place.push(placement);
    inFlight++;
  }
  return { inFlight, unhealthy: vacant.length };
}

/**
 * Drains, then rolling updates: a few slots at a time, only if the successor fits — and its
 * room is held for it (take), so a pass never stops more replicas than can be placed again.
 */
function moveReplicas(p: Pass, svc: ServiceSpec, sets: SlotSets, budget: number): void {
  const moves = [
    ...sets.migrate.map((r) => ({ r, exclude: r.node, releasing: undefined, reason: `node ${r.node} draining` })),
    ...sets.update.map((r) => ({ r, exclude: undefined, releasing: r.node, reason: `rolling update to version ${svc.version}` })),
  ];
  for (const m of moves) {
    if (budget <= 0) break;
    if (m.r.state !== 'running' && m.r.state !== 'pending') continue;
    // an updating replica's own node counts as free of its host ports: the successor may take its place
    const pick = p.scheduler.pick(svc, m.exclude, m.releasing);
    if (!pick.node) continue;
    p.scheduler.take(svc, pick.node);
    p.plan.stop.push(stopOf(m.r, p.dead, 'stopping', m.reason));
    budget--;
  }
}

export function refusalText(refused: Record<string, number>, aliveNodes: number): string {
  const parts = Object.entries(refused).map(([why, n]) => `${n} ${why}`);
  if (aliveNodes === 0) return 'no live nodes';
  return `no feasible node (${parts.join(', ') || 'none'})`;
}
