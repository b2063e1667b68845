/**
 * Pure: a run message → the ContainerSpec to create. No I/O; unit-tested.
 */
import { BosunError } from '../domain/errors.js';
import { LABEL } from '../domain/labels.js';
import { splitShellWords } from '../util/shell-words.js';
import type { ContainerSpec, Mount, PortBinding, ResourceLimits, RestartPolicy } from '../domain/engine/index.js';
import type { RunInput } from './schemas/run.js';

/** Splits a command line into words like a shell (quotes, backslashes); the error names the field. */
export function splitCommand(line: string, field = 'command'): string[] {
  try {
    return splitShellWords(line);
  } catch (e) {
    throw new BosunError('invalid_message', `${field}: ${(e as Error).message}`, { field, retryable: false });
  }
}

export function toArgv(v: string | string[] | undefined, field: string): string[] | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'string' ? splitCommand(v, field) : v;
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
export function parseBytes(v: number | string): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)([kmg]?)b?$/i.exec(v.trim());
  if (!m) throw new BosunError('invalid_message', `"${v}" is not a size like 256m`, { field: 'resources.memory', retryable: false });
  return Math.round(Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? 1));
}

export function envList(env: RunInput['environment']): string[] {
  if (!env) return [];
  if (Array.isArray(env)) return env;
  return Object.entries(env).map(([k, v]) => `${k}=${String(v)}`);
}

function restartPolicy(v: RunInput['restart_policy'], fallback: RestartPolicy): RestartPolicy {
  if (v === undefined) return fallback;
  if (typeof v === 'string') return v === 'on-failure' ? { name: v, maximumRetryCount: 5 } : { name: v };
  return v.name === 'on-failure' ? { name: v.name, maximumRetryCount: v.maximum_retry_count ?? 5 } : { name: v.name };
}

function portBindings(ports: RunInput['ports']): PortBinding[] {
  return Object.entries(ports ?? {}).map(([cport, host]) => {
    const containerPort = cport.includes('/') ? cport : `${cport}/tcp`;
    if (typeof host === 'number') return { containerPort, hostIp: '', hostPort: String(host) };
    const idx = host.lastIndexOf(':');
    return idx >= 0 ? { containerPort, hostIp: host.slice(0, idx), hostPort: host.slice(idx + 1) } : { containerPort, hostIp: '', hostPort: host };
  });
}

function resources(r: RunInput['resources']): ResourceLimits | undefined {
  if (!r) return undefined;
  const out: ResourceLimits = {};
  if (r.memory !== undefined) out.memory = parseBytes(r.memory);
  if (r.cpus !== undefined) out.nanoCpus = Math.round(r.cpus * 1e9);
  if (r.cpu_shares !== undefined) out.cpuShares = r.cpu_shares;
  if (r.pids_limit !== undefined) out.pidsLimit = r.pids_limit;
  return out;
}

export interface RunSpecContext {
  requestId: string;
  bodyHash: string;
  channel: string;
  /** The image reference to create from (the built tag when build: true). */
  image: string;
  /** Random hex for the UUID env var (seed 000 gives every run one). */
  uuid: string;
  hostTz?: string;
  /** Detached runs default to on-failure:5 (seed 000); attached runs to no restart, so one reply reports one execution. */
  attached: boolean;
  /** The publisher whose message this is (labels the container; per-publisher quotas count it). */
  publisher?: string;
}

export function buildRunSpec(input: RunInput, c: RunSpecContext): ContainerSpec {
  const env = [`UUID=${c.uuid}`, ...(c.hostTz ? [`TZ=${c.hostTz}`] : []), ...envList(input.environment)];
  const mounts: Mount[] = Object.entries(input.volumes ?? {}).map(([hostPath, v]) => ({
    type: 'bind',
    source: hostPath,
    target: v.bind,
    readOnly: v.mode === 'ro',
  }));
  const cmd = toArgv(input.command, 'command');
  const entrypoint = toArgv(input.entrypoint, 'entrypoint');
  const res = resources(input.resources);
  const ports = portBindings(input.ports);
  const spec: ContainerSpec = {
    image: c.image,
    env,
    labels: {
      ...(input.labels ?? {}),
      [LABEL.managed]: 'true',
      [LABEL.request]: c.requestId,
      [LABEL.channel]: c.channel,
      [LABEL.bodyHash]: c.bodyHash,
      [LABEL.run]: c.attached ? 'attached' : 'detached',
      ...(c.publisher !== undefined ? { [LABEL.publisher]: c.publisher } : {}),
    },
    mounts,
    restartPolicy: restartPolicy(input.restart_policy, c.attached ? { name: 'no' } : { name: 'on-failure', maximumRetryCount: 5 }),
  };
  if (input.name) spec.name = input.name;
  if (cmd) spec.cmd = cmd;
  if (entrypoint) spec.entrypoint = entrypoint;
  if (input.network) spec.networkMode = input.network;
  if (ports.length) spec.portBindings = ports;
  if (res) spec.resources = res;
  if (input.working_dir) spec.workingDir = input.working_dir;
  if (input.user) spec.user = input.user;
  if (input.privileged) spec.privileged = true;
  if (input.cap_add) spec.capAdd = input.cap_add;
  if (input.devices) spec.devices = input.devices;
  if (input.runtime) spec.runtime = input.runtime;
  return spec;
}
