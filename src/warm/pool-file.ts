/**
 * The warm pool file (`bosun agent --pools FILE`): which images to keep warm, how many, and
 * the create-time settings a run must share to use them.
 */
import { readFile } from 'node:fs/promises';
import YAML from 'yaml';
import { z } from 'zod';
import { runFields } from '../actions/schemas/run.js';
import { validate } from '../domain/validate.js';
import { BosunError } from '../domain/errors.js';

/** All pools together never hold more idle containers than this (each is a sleeping process plus a shim). */
export const MAX_POOLED_CONTAINERS = 64;
/** PID 1 of an idle pool container: busybox's sleep, which the FROM-scratch images here have. */
export const DEFAULT_IDLE_INIT = ['sleep', '2147483647'];

/** Settings fixed when a container is created: a run must ask for the same to use the pool. */
const matchSchema = z.strictObject({
  network: runFields.network,
  volumes: runFields.volumes,
  labels: runFields.labels,
  resources: runFields.resources,
  user: runFields.user,
  privileged: runFields.privileged,
  cap_add: runFields.cap_add,
  devices: runFields.devices,
  /** OCI runtime of the members (e.g. crun); only runs naming the same runtime take them. */
  runtime: runFields.runtime,
});
export type PoolMatch = z.infer<typeof matchSchema>;

const poolSchema = z.strictObject({
  /** Names the pool in labels, metrics and logs; defaults to the image's name. */
  name: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,39}$/, 'lowercase letters, digits, _ . - (at most 40)').optional(),
  image: runFields.image,
  size: z.number().int().min(1).max(MAX_POOLED_CONTAINERS),
  /** An idle container older than this is replaced by a fresh one. */
  max_idle_s: z.number().positive().default(3600),
  /**
   * At most this many members created at once (default: size). On a host whose CPU a burst
   * saturates, a refill costs more than the cold run it saves; 1 leaves the CPU to the runs.
   */
  refill_concurrency: z.number().int().min(1).max(MAX_POOLED_CONTAINERS).optional(),
  /** PID 1 while idle; must keep running without a terminal. */
  init: z.array(z.string().min(1)).min(1).default(DEFAULT_IDLE_INIT),
  match: matchSchema.default({}),
});

export const PoolFileSchema = z.strictObject({ pools: z.array(poolSchema).min(1) }).superRefine((f, ctx) => {
  const total = f.pools.reduce((n, p) => n + p.size, 0);
  if (total > MAX_POOLED_CONTAINERS) ctx.addIssue({ code: 'custom', path: ['pools'], message: `the pools hold ${total} containers together; at most ${MAX_POOLED_CONTAINERS}` });
  const names = f.pools.map(poolName);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) ctx.addIssue({ code: 'custom', path: ['pools'], message: `two pools are named "${dup}"; give one a name` });
});

export type PoolFile = z.infer<typeof PoolFileSchema>;
export type PoolDef = PoolFile['pools'][number];

export function poolName(p: { name?: string | undefined; image: string }): string {
  if (p.name) return p.name;
  const base = p.image.split('/').pop() ?? p.image;
  return base.replace(/[@:].*$/, '').toLowerCase().replace(/[^a-z0-9_.-]/g, '-').slice(0, 40) || 'pool';
}

export function parsePoolFile(text: string, path = 'pool file'): PoolFile {
  let doc: unknown;
  try {
    doc = YAML.parse(text) ?? {};
  } catch (e) {
    throw new BosunError('invalid_message', `${path}: not YAML: ${(e as Error).message}`, { field: 'pools' });
  }
  try {
    return validate(PoolFileSchema, doc);
  } catch (e) {
    throw new BosunError('invalid_message', `${path}: ${(e as Error).message}`, { field: 'pools', cause: e });
  }
}

export async function loadPoolFile(path: string): Promise<PoolFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new BosunError('invalid_message', `cannot read pool file ${path}: ${(e as Error).message}`, { field: 'pools' });
  }
  return parsePoolFile(text, `pool file ${path}`);
}

/** The pool file's field names (the README's pool table is checked against them). */
export const POOL_FILE_FIELDS = { pool: Object.keys(poolSchema.shape), match: Object.keys(matchSchema.shape) };
