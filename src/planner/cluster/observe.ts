/**
 * Pure: what a node's report (one event, or a full heartbeat list) means for the
 * assignments, and which of its containers must be fenced (stale generation, or an
 * assignment that no longer wants to run there).
 */
import type { Fence, Plan, Replica, ReplicaState, StateUpdate } from '../../domain/cluster.js';
export type { Fence, StateUpdate } from '../../domain/cluster.js';

export interface ReportedContainer {
  service: string;
  slot: number;
  generation: number;
  /** Docker's status: running, exited, created, dead, … or `missing` / `start_failed`. */
  status: string;
  exitCode?: number;
  error?: string;
}

export interface Observation {
  updates: StateUpdate[];
  fence: Fence[];
}

const key = (s: string, slot: number, g: number) => `${s}\u0000${slot}\u0000${g}`;

/** Identifies one assignment (service, slot, generation) as a map key. */
export const replicaKey = (r: { service: string; slot: number; generation: number }): string => key(r.service, r.slot, r.generation);

/** `full`: the report lists every bosun container on the node (heartbeat), so absence means gone. */
export function observe(
  node: string,
  reported: readonly ReportedContainer[],
  replicas: readonly Replica[],
  full: boolean,
  timing: { now: number; absenceGraceMs: number } = { now: Number.POSITIVE_INFINITY, absenceGraceMs: 0 },
): Observation {
  const out: Observation = { updates: [], fence: [] };
  const rows = new Map<string, Replica>();
  for (const r of replicas) rows.set(key(r.service, r.slot, r.generation), r);
  const seen = new Set<string>();
  for (const c of reported) {
    const k = key(c.service, c.slot, c.generation);
    seen.add(k);
    const r = rows.get(k);
    if (!r || r.node !== node || r.desired === 'stop') {
      if (c.status !== 'missing') out.fence.push({ service: c.service, slot: c.slot, generation: c.generation, node, reason: r ? 'assignment no longer wants to run here' : 'unknown assignment' });
      if (r && r.node === node && c.status === 'missing' && r.state !== 'stopped' && r.state !== 'failed') out.updates.push({ ...ids(r), state: 'stopped' });
      continue;
    }
    const next = stateOf(c);
    if (next && (next.state !== r.state || next.reason !== r.reason)) out.updates.push({ ...ids(r), ...next });
  }
  if (full) {
    for (const r of replicas) {
      if (r.node !== node || seen.has(key(r.service, r.slot, r.generation))) continue;
      // the node listed its containers a moment before sending: a replica that just changed may postdate the list
      const recent = timing.now - r.updatedAt < timing.absenceGraceMs;
      if (r.desired === 'run' && r.state === 'running' && !recent) out.updates.push({ ...ids(r), state: 'failed', reason: 'container disappeared from the node' });
      if (r.desired === 'stop' && (r.state === 'running' || r.state === 'pending' || r.state === 'stopping')) out.updates.push({ ...ids(r), state: 'stopped' });
    }
  }
  return out;
}

function stateOf(c: ReportedContainer): { state: ReplicaState; reason?: string } | undefined {
  switch (c.status) {
    case 'running':
      return { state: 'running' };
    case 'created':
    case 'restarting':
      return undefined;
    case 'start_failed':
      return { state: 'failed', reason: c.error ?? 'container failed to start' };
    case 'missing':
      return { state: 'failed', reason: 'container disappeared from the node' };
    default:
      return { state: 'failed', reason: c.error ? `exited (${c.exitCode ?? '?'}): ${c.error}` : `exited with code ${c.exitCode ?? '?'}` };
  }
}

function ids(r: Replica) {
  return { service: r.service, slot: r.slot, generation: r.generation };
}

/** Applies a plan to a copy of the assignments (what the store does, for tests and simulation). */
export function applyPlan(replicas: readonly Replica[], plan: Plan, now: number): Replica[] {
  const byKey = new Map<string, Replica>();
  for (const r of replicas) byKey.set(key(r.service, r.slot, r.generation), { ...r });
  for (const s of plan.stop) {
    const r = byKey.get(key(s.service, s.slot, s.generation));
    if (r) Object.assign(r, { desired: 'stop', state: s.markAs === 'stopping' && r.state === 'failed' ? 'failed' : s.markAs, reason: s.reason, updatedAt: now });
  }
  for (const p of plan.place) {
    byKey.set(key(p.service, p.slot, p.generation), {
      service: p.service, slot: p.slot, generation: p.generation, node: p.node, specVersion: p.specVersion,
      desired: 'run', state: 'pending', attempt: p.attempt, notBefore: 0, updatedAt: now,
    });
  }
  const purge = new Set(plan.purge);
  return [...byKey.values()].filter((r) => !purge.has(r.service));
}

/** Applies state updates to a copy (tests and simulation). */
export function applyUpdates(replicas: readonly Replica[], updates: readonly StateUpdate[], now: number): Replica[] {
  const byKey = new Map(replicas.map((r) => [key(r.service, r.slot, r.generation), { ...r }]));
  for (const u of updates) {
    const r = byKey.get(key(u.service, u.slot, u.generation));
    if (!r) continue;
    if (u.state === 'running' && r.state !== 'running') r.startedAt = now;
    r.state = u.state;
    // No new reason keeps the old one (the placement explanation, or the last failure).
    if (u.reason !== undefined) r.reason = u.reason;
    r.updatedAt = now;
  }
  return [...byKey.values()];
}
