/**
 * Drift between one desired container and the live one, sorted by what it takes to fix:
 * recreate (image, env, command, …), change in place (limits, restart policy), reconnect
 * (networks), or exec (post-start commands missing). Each finding names the field.
 */
import type { ContainerSpec, ResourceLimits, RestartPolicy } from '../../domain/engine/index.js';
import { LABEL } from '../../domain/labels.js';
import type { DesiredContainer } from './containers.js';
import type { ExecCheck, ExecCommand, ObservedContainer } from '../../domain/stack.js';

export interface Drift {
  recreate: string[];
  inPlace?: { resources?: ResourceLimits; restartPolicy?: RestartPolicy; reasons: string[] };
  connect: { network: string; aliases: string[] }[];
  disconnect: string[];
  networkReasons: string[];
  /** Exec commands (policy restart) not found running. */
  missingExec: ExecCommand[];
}

export interface DriftInput {
  desired: DesiredContainer;
  observed: ObservedContainer;
  /** Current id of the configured image tag, if known. */
  imageId: string | undefined;
  skipLimitReset: boolean;
  execCommands: ExecCommand[];
  checkExec: ExecCheck;
  /** Container name → id for `container:NAME` network modes. */
  containerIds?: Record<string, string>;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function bindingKeys(bs: ContainerSpec['portBindings']): string[] {
  return (bs ?? []).map((b) => `${b.hostIp ?? ''}:${b.hostPort ?? ''}->${b.containerPort.includes('/') ? b.containerPort : `${b.containerPort}/tcp`}`).sort();
}

/** Docker reports links as `/target:/self/alias` (default bridge) or `target:alias` (endpoint); the spec has `target:alias`. */
function linkKeys(links: string[] | undefined): string[] {
  const keys = (links ?? []).map((l) => {
    const [target = '', alias = ''] = l.split(':');
    return `${target.replace(/^\//, '')}:${alias.split('/').at(-1) ?? ''}`;
  });
  return [...new Set(keys)].sort();
}

/** Docker reports `container:NAME` network modes as `container:ID`. */
function sameNetworkMode(want: string, live: string, ids: Record<string, string>): boolean {
  if (!want.startsWith('container:')) return want === live;
  const target = want.slice('container:'.length);
  return live === want || live === `container:${ids[target] ?? target}`;
}

function recreateReasons(spec: ContainerSpec, o: ObservedContainer, imageId: string | undefined, hash: string, ids: Record<string, string>): string[] {
  const r: string[] = [];
  if (imageId && o.imageId !== imageId) r.push(`image: ${spec.image} now ${imageId.slice(7, 19)}, container has ${o.imageId.slice(7, 19)}`);
  const env = new Set(o.env);
  const envMissing = (spec.env ?? []).filter((e) => !env.has(e)).map((e) => e.split('=')[0]);
  if (envMissing.length) r.push(`environment: ${envMissing.join(', ')}`);
  if (spec.cmd && !same(spec.cmd, o.cmd)) r.push('command');
  if (spec.entrypoint && !same(spec.entrypoint, o.entrypoint)) r.push('entrypoint');
  if (spec.workingDir !== undefined && spec.workingDir !== o.workingDir) r.push('working_dir');
  if (spec.user !== undefined && spec.user !== o.user) r.push('user');
  if (!same(bindingKeys(spec.portBindings), bindingKeys(o.portBindings))) r.push('ports');
  const exposed = new Set(o.exposedPorts);
  if ((spec.exposedPorts ?? []).some((p) => !exposed.has(p.includes('/') ? p : `${p}/tcp`))) r.push('expose');
  for (const m of spec.mounts ?? []) {
    const live = o.mounts.find((x) => x.target === m.target);
    if (!live || live.type !== m.type || (m.source !== undefined && live.source !== m.source) || Boolean(live.readOnly) !== Boolean(m.readOnly)) {
      r.push(`volumes: ${m.target}`);
    }
  }
  if (!same(linkKeys(spec.links), linkKeys(o.links))) r.push(`links: ${linkKeys(spec.links).join(', ') || 'none'} (container has ${linkKeys(o.links).join(', ') || 'none'})`);
  const labelsDrifted = Object.entries(spec.labels ?? {}).filter(([k, v]) => k !== LABEL.specHash && o.labels[k] !== v).map(([k]) => k);
  if (labelsDrifted.length) r.push(`labels: ${labelsDrifted.join(', ')}`);
  if (spec.healthcheck && !same(spec.healthcheck, o.healthcheck)) r.push('healthcheck');
  if (spec.stopSignal && spec.stopSignal !== o.stopSignal) r.push('stop_signal');
  if (spec.networkMode && !sameNetworkMode(spec.networkMode, o.networkMode, ids)) r.push(`network_mode: ${spec.networkMode}`);
  if (r.length === 0 && o.labels[LABEL.specHash] !== hash) r.push(`spec changed (hash ${o.labels[LABEL.specHash] ?? 'none'} → ${hash})`);
  return r;
}

const LIMIT_KEYS: (keyof ResourceLimits)[] = [
  'memory', 'memoryReservation', 'memorySwap', 'kernelMemory', 'nanoCpus', 'cpuShares', 'cpuPeriod', 'cpuQuota', 'cpusetCpus', 'cpusetMems', 'blkioWeight', 'pidsLimit',
];

function limitDrift(spec: ContainerSpec, o: ObservedContainer, skipLimitReset: boolean): { changes: ResourceLimits; reasons: string[]; removed: string[] } {
  const want = spec.resources ?? {};
  const changes: Record<string, unknown> = {};
  const reasons: string[] = [];
  const removed: string[] = [];
  for (const k of LIMIT_KEYS) {
    const w = want[k];
    const live = o.resources[k];
    // Docker derives memorySwap (2 × memory) when only memory is set.
    if (k === 'memorySwap' && w === undefined) continue;
    if (w !== undefined && w !== live) {
      changes[k] = w;
      reasons.push(`limits.${k}: ${String(live ?? 'unset')} → ${String(w)}`);
    } else if (w === undefined && live !== undefined && !skipLimitReset) {
      removed.push(`limits.${k} removed (cannot be reset in place)`);
    }
  }
  const res = changes as ResourceLimits;
  if (res.memory !== undefined && want.memorySwap === undefined && o.resources.memorySwap !== undefined && o.resources.memorySwap !== -1) {
    res.memorySwap = res.memory * 2;
  }
  return { changes: res, reasons, removed };
}

function execFound(c: ExecCommand, o: ObservedContainer, check: ExecCheck): boolean {
  const line = c.cmd.join(' ');
  return (o.processes ?? []).some((p) => (check === 'partial' ? p.command.includes(line) : p.command === line) && (!c.user || p.user === c.user || /^\d+$/.test(p.user)));
}

export function detectDrift(input: DriftInput): Drift {
  const { desired, observed: o } = input;
  const spec = desired.spec;
  const recreate = recreateReasons(spec, o, input.imageId, desired.hash, input.containerIds ?? {});
  const limits = limitDrift(spec, o, input.skipLimitReset);
  recreate.push(...limits.removed);
  const wantPolicy: RestartPolicy = spec.restartPolicy ?? { name: 'no' };
  const policyChanged = wantPolicy.name !== o.restartPolicy.name || (wantPolicy.name === 'on-failure' && (wantPolicy.maximumRetryCount ?? 0) !== (o.restartPolicy.maximumRetryCount ?? 0));
  const drift: Drift = { recreate, connect: [], disconnect: [], networkReasons: [], missingExec: [] };
  if (Object.keys(limits.changes).length || policyChanged) {
    drift.inPlace = {
      ...(Object.keys(limits.changes).length ? { resources: limits.changes } : {}),
      ...(policyChanged ? { restartPolicy: wantPolicy } : {}),
      reasons: [...limits.reasons, ...(policyChanged ? [`restart: ${o.restartPolicy.name} → ${wantPolicy.name}`] : [])],
    };
  }
  if (!spec.networkMode) {
    const want = new Map((spec.networks ?? []).map((n) => [n.name, n.aliases ?? []]));
    for (const [name, aliases] of want) {
      const live = o.networks[name];
      if (!live) {
        drift.connect.push({ network: name, aliases });
        drift.networkReasons.push(`networks: ${name} not connected`);
      } else if (aliases.some((a) => !live.aliases.includes(a))) {
        drift.disconnect.push(name);
        drift.connect.push({ network: name, aliases });
        drift.networkReasons.push(`networks: ${name} aliases`);
      }
    }
    for (const name of Object.keys(o.networks)) {
      if (!want.has(name) && want.size > 0) {
        drift.disconnect.push(name);
        drift.networkReasons.push(`networks: ${name} not configured`);
      }
    }
  }
  if (input.checkExec !== 'none' && o.state.running && o.processes) {
    drift.missingExec = input.execCommands.filter((c) => c.policy === 'restart' && !execFound(c, o, input.checkExec));
  }
  return drift;
}
