/**
 * The reconciler's first step, per service, as Nomad's reconciler splits allocations: every
 * slot's live replica goes into one named set — stop (scaled down, lost with its node, failed
 * or timed out), vacant (to place), migrate (on a draining node), update (older spec version)
 * or untouched — and the count of replicas not confirmed yet. Pure.
 */
import type { NodeView, PlannerConfig, Replica, ServiceSpec, StopOrder } from '../../domain/cluster.js';

export interface SlotInfo {
  live?: Replica;
  maxGeneration: number;
  /** Highest-generation row (for attempt/backoff of a vacant slot). */
  last?: Replica;
}

export interface Vacancy {
  slot: number;
  attempt: number;
  notBefore: number;
  exclude?: string;
}

/** What one pass knows besides the service: time, the nodes' liveness, the settings. */
export interface PassView {
  cfg: PlannerConfig;
  pendingTimeoutMs: number;
  now: number;
  dead: ReadonlySet<string>;
  aliveByName: ReadonlyMap<string, NodeView>;
}

export interface SlotSets {
  /** Stopped in this pass, in slot order. */
  stop: StopOrder[];
  /** Slots to fill: emptied ones in slot order, then those never filled. */
  vacant: Vacancy[];
  /** Live replicas on a draining node, moved while the update budget lasts. */
  migrate: Replica[];
  /** Live replicas of an older spec version, replaced while the update budget lasts. */
  update: Replica[];
  /** Pending replicas (no report from their node yet). */
  pending: number;
  /** Of those, the ones already of the current spec version (updates in flight). */
  pendingCurrent: number;
}

export function backoffDelay(attempt: number, cfg: PlannerConfig): number {
  if (attempt <= 0) return 0;
  return Math.min(cfg.backoffCapMs, cfg.backoffBaseMs * 2 ** Math.min(attempt - 1, 20));
}

/** Failures in a row; a replica that had been running for `stableAfterMs` counts as a fresh start. */
export function nextAttempt(r: Replica, cfg: PlannerConfig): number {
  const stable = r.startedAt !== undefined && r.updatedAt - r.startedAt >= cfg.stableAfterMs;
  return (stable ? 0 : r.attempt) + 1;
}

export function stopOf(r: Replica, dead: ReadonlySet<string>, markAs: StopOrder['markAs'], reason: string): StopOrder {
  return { service: r.service, slot: r.slot, generation: r.generation, node: r.node, markAs: dead.has(r.node) && markAs === 'stopping' ? 'lost' : markAs, reason };
}

/** service → slot → its rows: the live (highest run-wanted) generation and the last one. */
export function groupSlots(replicas: readonly Replica[]): Map<string, Map<number, SlotInfo>> {
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

/** An empty slot waits for its stopped predecessor (stop-first) or for the backoff of its failure. */
function vacancyAfter(last: Replica | undefined, slot: number, v: PassView): Vacancy {
  if (last?.state === 'stopping' && v.aliveByName.has(last.node) && v.now - last.updatedAt < v.cfg.stopWaitMs) {
    return { slot, attempt: 0, notBefore: last.updatedAt + v.cfg.stopWaitMs };
  }
  if (!last || last.state !== 'failed') return { slot, attempt: 0, notBefore: 0 };
  const attempt = nextAttempt(last, v.cfg);
  return { slot, attempt, notBefore: last.updatedAt + backoffDelay(attempt, v.cfg) };
}

export function classifySlots(svc: ServiceSpec, slots: ReadonlyMap<number, SlotInfo>, v: PassView): SlotSets {
  const want = svc.deleted ? 0 : svc.replicas;
  const sets: SlotSets = { stop: [], vacant: [], migrate: [], update: [], pending: 0, pendingCurrent: 0 };
  for (const [slot, info] of [...slots.entries()].sort((a, b) => a[0] - b[0])) {
    const r = info.live;
    if (!r) {
      if (slot < want) sets.vacant.push(vacancyAfter(info.last, slot, v));
      continue;
    }
    if (slot >= want) {
      sets.stop.push(stopOf(r, v.dead, 'stopping', svc.deleted ? 'service deleted' : 'scaled down'));
      continue;
    }
    if (v.dead.has(r.node)) {
      sets.stop.push(stopOf(r, v.dead, 'lost', `node ${r.node} missed its heartbeats`));
      sets.vacant.push({ slot, attempt: r.attempt, notBefore: v.now, exclude: r.node });
      continue;
    }
    const timedOut = r.state === 'pending' && v.now - r.updatedAt > v.pendingTimeoutMs;
    if (r.state === 'failed' || r.state === 'lost' || r.state === 'stopped' || timedOut) {
      const reason = timedOut ? 'no report from node within the start timeout' : r.reason ?? `replica ${r.state}`;
      sets.stop.push(stopOf(r, v.dead, 'failed', reason));
      const attempt = nextAttempt(r, v.cfg);
      sets.vacant.push({ slot, attempt, notBefore: (timedOut ? v.now : r.updatedAt) + backoffDelay(attempt, v.cfg) });
      continue;
    }
    if (r.state === 'pending') {
      sets.pending++;
      if (r.specVersion === svc.version) sets.pendingCurrent++;
    }
    if (v.aliveByName.get(r.node)?.status === 'draining') sets.migrate.push(r);
    else if (r.specVersion < svc.version) sets.update.push(r);
  }
  for (let slot = 0; slot < want; slot++) if (!slots.has(slot)) sets.vacant.push({ slot, attempt: 0, notBefore: v.now });
  return sets;
}
