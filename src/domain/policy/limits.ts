/**
 * Pure: every container bosun makes gets bounded resources and a rotated log. A spec that asks
 * for nothing gets the policy's `default_limits`; one that asks for more than `max_limits` is
 * refused with policy_denied naming the field (`resources.memory`, …). A policy file that sets
 * only some keys keeps the built-in value for the others (limits merge key by key).
 */
import { BosunError } from '../errors.js';
import type { ContainerSpec, LogConfig, ResourceLimits } from '../../domain/engine/index.js';
import { DEFAULT_LIMITS, DEFAULT_MAX_LIMITS, type Limits, type Policy } from './schema.js';

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** "256m" / "1.5g" / 1024 → bytes; undefined when the text is not a size. */
export function sizeToBytes(v: number | string): number | undefined {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)([kmg]?)b?$/i.exec(v.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? 1));
}

export interface EffectiveLimits {
  memory: number;
  nanoCpus: number;
  pidsLimit: number;
  logMaxSize: number;
  logMaxFile: number;
  outputBytes: number;
  streamChunkBytes: number;
  streamChunksPerSecond: number;
  streamBytes: number;
}

function effective(l: Limits, base: Limits): EffectiveLimits {
  const m = { ...base, ...l };
  const bytes = (v: number | string | undefined, name: string) => {
    const b = v === undefined ? undefined : sizeToBytes(v);
    if (b === undefined) throw new BosunError('invalid_message', `policy: ${name} "${String(v)}" is not a size`, { field: `policy.${name}` });
    return b;
  };
  return {
    memory: bytes(m.memory, 'memory'),
    nanoCpus: Math.round((m.cpus ?? 1) * 1e9),
    pidsLimit: m.pids_limit ?? 0,
    logMaxSize: bytes(m.log_max_size, 'log_max_size'),
    logMaxFile: m.log_max_file ?? 1,
    outputBytes: bytes(m.output_bytes, 'output_bytes'),
    streamChunkBytes: bytes(m.stream_chunk_bytes, 'stream_chunk_bytes'),
    streamChunksPerSecond: m.stream_chunks_per_second ?? 1,
    streamBytes: bytes(m.stream_bytes, 'stream_bytes'),
  };
}

export function defaultLimits(policy: Pick<Policy, 'default_limits'>): EffectiveLimits {
  return effective(policy.default_limits, DEFAULT_LIMITS);
}

export function maxLimits(policy: Pick<Policy, 'max_limits'>): EffectiveLimits {
  return effective(policy.max_limits, DEFAULT_MAX_LIMITS);
}

/** Bytes of stdout+stderr an attached run may produce before it is stopped (the default, never above the maximum). */
export function outputLimitBytes(policy: Pick<Policy, 'default_limits' | 'max_limits'>): number {
  return Math.min(defaultLimits(policy).outputBytes, maxLimits(policy).outputBytes);
}

/**
 * Live output bounds of a `stream: true` run: the policy's default_limits, never above its
 * max_limits (key by key). A run cannot ask for its own: like output_bytes these are the
 * operator's to set, per publisher through `users`. A chunk holds at least 4 bytes.
 */
export function streamLimits(policy: Pick<Policy, 'default_limits' | 'max_limits'>): { chunkBytes: number; chunksPerSecond: number; totalBytes: number } {
  const def = defaultLimits(policy);
  const max = maxLimits(policy);
  return {
    // Room for one character of UTF-8 (a chunk is never cut inside one).
    chunkBytes: Math.max(4, Math.min(def.streamChunkBytes, max.streamChunkBytes)),
    chunksPerSecond: Math.min(def.streamChunksPerSecond, max.streamChunksPerSecond),
    totalBytes: Math.min(def.streamBytes, max.streamBytes),
  };
}

/** Log drivers whose files Docker rotates with max-size / max-file. */
const ROTATING_DRIVERS = new Set(['json-file', 'local']);

function deny(field: string, message: string): never {
  throw new BosunError('policy_denied', message, { field, retryable: false });
}

/** 0 or below is "unlimited" to Docker. */
function checkMax(field: string, asked: number, max: number, unit: string): void {
  if (!(asked > 0)) deny(field, `${field}: unlimited (${asked}) is not allowed; the policy maximum is ${max} ${unit}`);
  if (asked > max) deny(field, `${field}: ${asked} ${unit} is above the policy maximum of ${max}`);
}

/**
 * The spec with default limits and log rotation filled in; throws policy_denied when it asks
 * above the maximum (0 or a negative value means "unlimited" to Docker, so it counts as above).
 */
export function applyLimits(policy: Pick<Policy, 'default_limits' | 'max_limits'>, spec: ContainerSpec, fieldPrefix = ''): ContainerSpec {
  const def = defaultLimits(policy);
  const max = maxLimits(policy);
  const f = (name: string) => fieldPrefix + name;
  const r: ResourceLimits = { ...(spec.resources ?? {}) };
  r.memory ??= Math.min(def.memory, max.memory);
  r.nanoCpus ??= Math.min(def.nanoCpus, max.nanoCpus);
  r.pidsLimit ??= Math.min(def.pidsLimit, max.pidsLimit);
  checkMax(f('resources.memory'), r.memory, max.memory, 'bytes');
  checkMax(f('resources.cpus'), r.nanoCpus / 1e9, max.nanoCpus / 1e9, 'CPUs');
  checkMax(f('resources.pids_limit'), r.pidsLimit, max.pidsLimit, 'processes');
  // A memory+swap limit below memory is refused by Docker anyway; an unlimited one (-1) would lift the cap through swap.
  if (r.memorySwap !== undefined && (r.memorySwap < 0 || r.memorySwap > 2 * max.memory)) {
    deny(f('resources.memory_swap'), `${f('resources.memory_swap')}: unlimited or above twice the policy's memory maximum`);
  }
  return { ...spec, resources: r, logConfig: applyLogLimits(spec.logConfig, def, max, f('logging')) };
}

function applyLogLimits(given: LogConfig | undefined, def: EffectiveLimits, max: EffectiveLimits, field: string): LogConfig {
  const log: LogConfig = given ? { type: given.type, config: { ...(given.config ?? {}) } } : { type: 'json-file', config: {} };
  // Other drivers keep no file on this host; which of them may be used is the policy's allowed_log_drivers.
  if (!ROTATING_DRIVERS.has(log.type)) return log;
  const config = (log.config ??= {});
  const size = config['max-size'] !== undefined ? sizeToBytes(config['max-size']) : Math.min(def.logMaxSize, max.logMaxSize);
  if (size === undefined || size <= 0 || size > max.logMaxSize) deny(`${field}.max-size`, `${field}.max-size: "${config['max-size']}" is not a size up to the policy maximum of ${max.logMaxSize} bytes`);
  const files = config['max-file'] !== undefined ? Number(config['max-file']) : Math.min(def.logMaxFile, max.logMaxFile);
  if (!Number.isInteger(files) || files <= 0 || files > max.logMaxFile) deny(`${field}.max-file`, `${field}.max-file: "${config['max-file']}" is not a count up to the policy maximum of ${max.logMaxFile}`);
  config['max-size'] = String(size);
  config['max-file'] = String(files);
  return log;
}
