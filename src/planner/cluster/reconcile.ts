/**
 * The cluster reconciler: desired services + known assignments + nodes + `now` → a Plan.
 * Pure and deterministic. Invariants (property-tested):
 * - after the plan, each slot has at most one assignment that wants to run, and no service
 *   has more than `replicas` of them;
 * - an old replica is stopped for a drain or an update only when its successor can be placed,
 *   and the successor is placed only once the node confirmed the stop (stop-first: never N+1).
 */
import { Scheduler } from './scheduler.js';
import type { NodeView, Placement, Plan, PlannerConfig, Replica, ServiceSpec, StopOrder } from '../../domain/cluster.js';
import { DEFAULT_PLANNER_CONFIG } from '../../domain/cluster.js';

export interface ReconcileInput {
  services: readonly ServiceSpec[];
  replicas: readonly Replica[];
  nodes: readonly NodeView[];
  now: number;
  config?: Partial<PlannerConfig> & { pendingTimeoutMs?: number };
}

export function backoffDelay(attempt: number, cfg: PlannerConfig): number {
  if (attempt <= 0) return 0;
  return Math.min(cfg.backoffCapMs, cfg.backoffBaseMs * 2 ** Math.min(attempt - 1, 20));
}

interface SlotInfo {
  live?: Replica;
  maxGeneration: number;
  /** Highest-generation row (for attempt/backoff of a vacant slot). */
  last?: Replica;
}

export function reconcile(input: ReconcileInput): Plan {
  const cfg: PlannerConfig = { ...DEFAULT_PLANNER_CONFIG, ...input.config };
  const pendingTimeoutMs = input.config?.pendingTimeoutMs ?? 30_000;
  const { now } = input;
  const plan: Plan = { place: [], stop: [], unplaced: [], delayed: [], deadNodes: [], purge: [] };

  const dead = new Set<string>();
  const alive: NodeView[] = [];
  for (const n of input.nodes) {
    if (now - n.lastHeartbeat > cfg.heartbeatGraceMs) dead.add(n.name);
    else alive.push(n);
  }
  plan.deadNodes = [...dead].sort();
  const aliveByName = new Map(alive.map((n) => [n.name, n]));

  const services = [...input.services].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const svcByName = new Map(services.map((s) => [s.name, s]));
  const slotsBySvc = groupSlots(input.replicas);
  const scheduler = new Scheduler(alive);

  // Account every live replica on a live node before deciding anything.
  for (const [svcName, slots] of slotsBySvc) {
    const svc = svcByName.get(svcName);
    for (const info of slots.values()) {
      const r = info.live;
      if (r && aliveByName.has(r.node)) scheduler.account(r.node, svcName, svc?.container, r.state === 'pending');
    }
  }

  // Assignments of services nobody wants any more (not even as deleted): stop them.
  for (const [svcName, slots] of slotsBySvc) {
    if (svcByName.has(svcName)) continue;
    for (const info of slots.values()) if (info.live) plan.stop.push(stopOf(info.live, dead, 'stopping', 'service unknown'));
  }

  for (const svc of services) {
    const slots = slotsBySvc.get(svc.name) ?? new Map<number, SlotInfo>();
    const want = svc.deleted ? 0 : svc.replicas;
    const vacant: { slot: number; attempt: number; notBefore: number; exclude?: string }[] = [];
    const updatable: Replica[] = [];
    const draining: Replica[] = [];
    let inFlight = 0;
    let unhealthy = 0;

    for (const [slot, info] of [...slots.entries()].sort((a, b) => a[0] - b[0])) {
      const r = info.live;
      if (!r) {
        if (slot < want) vacant.push(vacancyAfter(info.last, slot, cfg, now, aliveByName));
        continue;
      }
      if (slot >= want) {
        plan.stop.push(stopOf(r, dead, 'stopping', svc.deleted ? 'service deleted' : 'scaled down'));
        continue;
      }
      if (dead.has(r.node)) {
        plan.stop.push(stopOf(r, dead, 'lost', `node ${r.node} missed its heartbeats`));
        vacant.push({ slot, attempt: r.attempt, notBefore: now, exclude: r.node });
        continue;
      }
      const timedOut = r.state === 'pending' && now - r.updatedAt > pendingTimeoutMs;
      if (r.state === 'failed' || r.state === 'lost' || r.state === 'stopped' || timedOut) {
        const reason = timedOut ? 'no report from node within the start timeout' : r.reason ?? `replica ${r.state}`;
        plan.stop.push(stopOf(r, dead, 'failed', reason));
        const attempt = nextAttempt(r, cfg);
        vacant.push({ slot, attempt, notBefore: (timedOut ? now : r.updatedAt) + backoffDelay(attempt, cfg) });
        continue;
      }
      if (r.state === 'pending') {
        unhealthy++;
        if (r.specVersion === svc.version) inFlight++;
      }
      const node = aliveByName.get(r.node);
      if (node && node.status === 'draining') {
        draining.push(r);
        continue;
      }
      if (r.specVersion < svc.version) updatable.push(r);
    }
    for (let slot = 0; slot < want; slot++) if (!slots.has(slot)) vacant.push({ slot, attempt: 0, notBefore: now });

    for (const v of vacant) {
      if (v.notBefore > now) {
        plan.delayed.push({ service: svc.name, slot: v.slot, notBefore: v.notBefore });
        unhealthy++;
        continue;
      }
      const pick = scheduler.pick(svc);
      const gen = (slots.get(v.slot)?.maxGeneration ?? 0) + 1;
      if (pick.node) {
        placeAt(plan, scheduler, svc, v.slot, gen, pick.node, v.attempt, pick);
        inFlight++;
        unhealthy++;
      } else {
        unhealthy++;
        plan.unplaced.push({ service: svc.name, slot: v.slot, reason: refusalText(pick.refused, alive.length), refused: pick.refused });
      }
    }

    // Drains, then rolling updates: a few slots at a time, only while the rest is healthy, only
    // if the successor fits — and its room is held for it (take), so a pass never stops more
    // replicas than can be placed again.
    let budget = cfg.maxParallelUpdates - inFlight;
    if (unhealthy - inFlight > 0) budget = 0;
    const moves = [
      ...draining.map((r) => ({ r, exclude: r.node, releasing: undefined, reason: `node ${r.node} draining` })),
      ...updatable.map((r) => ({ r, exclude: undefined, releasing: r.node, reason: `rolling update to version ${svc.version}` })),
    ];
    for (const m of moves) {
      if (budget <= 0) break;
      if (m.r.state !== 'running' && m.r.state !== 'pending') continue;
      // an updating replica's own node counts as free of its host ports: the successor may take its place
      const pick = scheduler.pick(svc, m.exclude, m.releasing);
      if (!pick.node) continue;
      scheduler.take(svc, pick.node);
      plan.stop.push(stopOf(m.r, dead, 'stopping', m.reason));
      budget--;
    }

    if (svc.deleted && ![...slots.values()].some((i) => i.live)) plan.purge.push(svc.name);
  }
  return plan;
}

function groupSlots(replicas: readonly Replica[]): Map<string, Map<number, SlotInfo>> {
  const out = new Map<string, Map<number, SlotInfo>>();
  for (const r of replicas) {
    let slots = out.get(r.service);
    if (!slots) out.set(r.service, (slots = new Map()));
    let info = slots.get(r.slot);
    if (!info) slots.set(r.slot, (info = { maxGeneration: 0 }));
    info.maxGeneration = Math.max(info.maxGeneration, r.generation);
    if (!info.last || r.generation > info.last.generation) info.last = r;
    if (r.desired === 'run' && (!info.live || r.generation > info.live.generation)) info.live = r;
  }
  return out;
}

function vacancyAfter(last: Replica | undefined, slot: number, cfg: PlannerConfig, now: number, alive: Map<string, NodeView>) {
  if (last?.state === 'stopping' && alive.has(last.node) && now - last.updatedAt < cfg.stopWaitMs) {
    return { slot, attempt: 0, notBefore: last.updatedAt + cfg.stopWaitMs };
  }
  if (!last || last.state !== 'failed') return { slot, attempt: 0, notBefore: 0 };
  const attempt = nextAttempt(last, cfg);
  return { slot, attempt, notBefore: last.updatedAt + backoffDelay(attempt, cfg) };
}

/** Failures in a row; a replica that had been running for `stableAfterMs` counts as a fresh start. */
export function nextAttempt(r: Replica, cfg: PlannerConfig): number {
  const stable = r.startedAt !== undefined && r.updatedAt - r.startedAt >= cfg.stableAfterMs;
  return (stable ? 0 : r.attempt) + 1;
}

function stopOf(r: Replica, dead: Set<string>, markAs: StopOrder['markAs'], reason: string): StopOrder {
  return { service: r.service, slot: r.slot, generation: r.generation, node: r.node, markAs: dead.has(r.node) && markAs === 'stopping' ? 'lost' : markAs, reason };
}

function placeAt(plan: Plan, scheduler: Scheduler, svc: ServiceSpec, slot: number, generation: number, node: string, attempt: number, pick: { score: number[]; refused: Record<string, number>; feasible: number }): void {
  scheduler.take(svc, node);
  const p: Placement = { service: svc.name, slot, generation, node, specVersion: svc.version, attempt, why: { score: pick.score, refused: pick.refused, feasible: pick.feasible } };
  plan.place.push(p);
}

export function refusalText(refused: Record<string, number>, aliveNodes: number): string {
  const parts = Object.entries(refused).map(([why, n]) => `${n} ${why}`);
  if (aliveNodes === 0) return 'no live nodes';
  return `no feasible node (${parts.join(', ') || 'none'})`;
}
