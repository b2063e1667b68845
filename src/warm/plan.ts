/**
 * Pure warm pool planning: the key a container spec is pooled under, how many containers each
 * pool needs, which idle ones are too old, and what to do with pool containers found at start.
 * No I/O; time is passed in.
 */
import { createHash } from 'node:crypto';
import { LABEL } from '../domain/labels.js';
import type { ContainerSpec } from '../domain/engine/index.js';

/** Labels a run carries that say which request made it; they are not settings and not in the key. */
const PER_RUN_LABELS = new Set<string>([LABEL.request, LABEL.channel, 'bosun.body-hash', LABEL.run, LABEL.publisher, LABEL.pool, LABEL.poolKey, LABEL.poolOwner]);

/**
 * The create-time settings a run cannot change after the container exists. Two specs with the
 * same key may share a pool; command, environment and working directory are exec-time.
 */
export function poolKey(spec: ContainerSpec): string {
  const labels = Object.fromEntries(Object.entries(spec.labels ?? {}).filter(([k]) => !PER_RUN_LABELS.has(k)).sort(([a], [b]) => a.localeCompare(b)));
  const fixed = {
    image: spec.image,
    user: spec.user ?? '',
    labels,
    mounts: spec.mounts ?? [],
    networkMode: spec.networkMode ?? '',
    networks: spec.networks ?? [],
    portBindings: spec.portBindings ?? [],
    resources: sortKeys(spec.resources ?? {}),
    privileged: spec.privileged ?? false,
    capAdd: spec.capAdd ?? [],
    capDrop: spec.capDrop ?? [],
    devices: spec.devices ?? [],
    logConfig: spec.logConfig ?? null,
    readonlyRootfs: spec.readonlyRootfs ?? false,
    extraHosts: spec.extraHosts ?? [],
    pidMode: spec.pidMode ?? '',
    hostname: spec.hostname ?? '',
    runtime: spec.runtime ?? '',
  };
  return createHash('sha256').update(JSON.stringify(fixed)).digest('hex').slice(0, 32);
}

function sortKeys<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b))) as T;
}

/** Why a run goes cold although pools exist (logged and counted as bosun_warm_misses_total{reason}). */
export const COLD_REASONS = ['opted_out', 'no_pool', 'empty', 'named', 'build', 'keep', 'restart_policy', 'no_command', 'pull_always', 'ports'] as const;
export type ColdReason = (typeof COLD_REASONS)[number];

export interface WarmAsk {
  warm?: boolean | undefined;
  name?: string | undefined;
  build?: boolean | undefined;
  /** False when the sender keeps the container (dispatch without remove): a warm one never survives its run. */
  remove: boolean;
  restartPolicy?: ContainerSpec['restartPolicy'];
  /** pull: always wants the newest image; a pool holds the one it was filled from. */
  pull?: string | boolean | undefined;
  /** Host ports published: a pool file declares none (each member would hold the ports). */
  ports?: boolean | undefined;
}

/** Whether a run may use a pool at all, before any pool is looked at. */
export function warmEligibility(a: WarmAsk): ColdReason | undefined {
  if (a.warm === false) return 'opted_out';
  if (a.name) return 'named';
  if (a.build) return 'build';
  if (!a.remove) return 'keep';
  if (a.pull === 'always' || a.pull === true) return 'pull_always';
  if (a.restartPolicy && a.restartPolicy.name !== 'no') return 'restart_policy';
  if (a.ports) return 'ports';
  return undefined;
}

/**
 * The argv a cold run of this spec would execute: Docker's rule — an entrypoint given by the
 * run replaces the image's and drops the image's command.
 */
export function execArgv(spec: Pick<ContainerSpec, 'entrypoint' | 'cmd'>, image: { entrypoint?: string[] | undefined; cmd?: string[] | undefined }): string[] {
  const entrypoint = spec.entrypoint ?? image.entrypoint ?? [];
  const cmd = spec.cmd ?? (spec.entrypoint ? [] : (image.cmd ?? []));
  return [...entrypoint, ...cmd];
}

export interface IdleContainer {
  id: string;
  /** When it became idle (ms). */
  since: number;
}

export interface PoolState {
  size: number;
  maxIdleMs: number;
  idle: IdleContainer[];
  /** Containers being created and started. */
  filling: number;
  /** At most this many being created and started at once. */
  refillConcurrency: number;
}

export interface RefillPlan {
  /** Idle containers past max_idle_s: removed and replaced. */
  expire: string[];
  /** How many to create now. */
  create: number;
}

export function planRefill(p: PoolState, now: number): RefillPlan {
  const expire = p.idle.filter((c) => now - c.since >= p.maxIdleMs).map((c) => c.id);
  const kept = p.idle.length - expire.length;
  return { expire, create: Math.max(0, Math.min(p.size - kept - p.filling, p.refillConcurrency - p.filling)) };
}

export interface FoundContainer {
  id: string;
  /** The owning agent's stable name (bosun.pool-owner); undefined on containers made before owners were labelled. */
  owner?: string | undefined;
  pool: string;
  key: string;
  running: boolean;
  /** Still idle (never claimed by a run). */
  unclaimed: boolean;
}

export interface AdoptionPlan {
  /** pool name → ids kept as idle members. */
  adopt: Record<string, string[]>;
  /** Stale, stopped, surplus or of a pool no longer declared (or changed): removed. */
  remove: string[];
  /** Claimed by a run of an earlier agent: stopped and kept a while, so that run's redelivery finds it. */
  tombstone: string[];
}

export interface OwnedSelection<T> {
  /** This agent's pool containers: the ones it adopts, tombstones or removes. */
  own: T[];
  /** Another agent's, on the same engine: left alone. */
  others: number;
  /** Without an owner label (made by an older bosun): left alone too, since any agent may own them. */
  unowned: number;
}

/** Which of the pool containers found on the engine are this agent's to adopt or remove. */
export function selectOwn<T extends { owner?: string | undefined }>(found: T[], owner: string): OwnedSelection<T> {
  const sel: OwnedSelection<T> = { own: [], others: 0, unowned: 0 };
  for (const c of found) {
    if (c.owner === owner) sel.own.push(c);
    else if (c.owner === undefined || c.owner === '') sel.unowned++;
    else sel.others++;
  }
  return sel;
}

/** After a crash or restart: pool containers of the current settings are adopted, the rest cleaned. */
export function planAdoption(found: FoundContainer[], pools: { name: string; key: string; size: number }[]): AdoptionPlan {
  const plan: AdoptionPlan = { adopt: {}, remove: [], tombstone: [] };
  for (const c of found) {
    if (!c.unclaimed) {
      plan.tombstone.push(c.id);
      continue;
    }
    const pool = pools.find((p) => p.name === c.pool && p.key === c.key);
    const members = pool ? (plan.adopt[pool.name] ??= []) : undefined;
    if (pool && members && c.running && members.length < pool.size) members.push(c.id);
    else plan.remove.push(c.id);
  }
  return plan;
}

/** The name a claimed container takes: one per request (and publisher), so a second claim of the same request conflicts. */
export function claimName(requestId: string, publisher: string | undefined): string {
  return `bosun-warm-${publisherHash(publisher, requestId, 24)}`;
}

/** A hex hash of a value scoped to its publisher, `chars` long. */
function publisherHash(publisher: string | undefined, value: string, chars: number): string {
  return createHash('sha256').update(`${publisher ?? ''}\0${value}`).digest('hex').slice(0, chars);
}

/**
 * What the claimed containers of an id-less message's deliveries are named after: its body (and
 * publisher), as a cold run's container is labelled with its body hash. A redelivery, which
 * gets a fresh random id, finds its first delivery's container by this prefix.
 */
export function bodyClaimPrefix(bodyHash: string, publisher: string | undefined): string {
  return `bosun-warm-b${publisherHash(publisher, bodyHash, 16)}-`;
}

/**
 * The claim name of a request. A sender-given id: claimName. An id bosun made: the body's prefix,
 * then the id's hash, so the agent's own copy of that delivery (which carries the id as its
 * message id) conflicts on the same name, and two equal fresh messages get two names.
 */
export function claimNameFor(r: { requestId: string; idGenerated: boolean; bodyHash: string; publisher?: string | undefined }): string {
  if (!r.idGenerated) return claimName(r.requestId, r.publisher);
  return `${bodyClaimPrefix(r.bodyHash, r.publisher)}${publisherHash(r.publisher, r.requestId, 12)}`;
}

export const IDLE_NAME_PREFIX = 'bosun-pool-';
