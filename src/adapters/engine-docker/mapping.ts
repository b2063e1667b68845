/**
 * Pure translation between bosun's engine types and the Docker Engine API's JSON.
 * No I/O here, so it is unit-tested directly.
 */
import type Docker from 'dockerode';
import type { ContainerDetails, ContainerSpec, ContainerStatus, ContainerSummary, Healthcheck, Mount, PortBinding, ResourceLimits, RestartPolicy, RestartPolicyName } from '../../domain/engine/index.js';

const NS_PER_MS = 1_000_000;

function nonEmpty<T>(xs: T[] | undefined): T[] | undefined {
  return xs && xs.length > 0 ? xs : undefined;
}

export function resourcesToHostConfig(r: ResourceLimits | undefined): Record<string, unknown> {
  if (!r) return {};
  const out: Record<string, unknown> = {};
  if (r.memory !== undefined) out.Memory = r.memory;
  if (r.memoryReservation !== undefined) out.MemoryReservation = r.memoryReservation;
  if (r.memorySwap !== undefined) out.MemorySwap = r.memorySwap;
  if (r.kernelMemory !== undefined) out.KernelMemory = r.kernelMemory;
  if (r.nanoCpus !== undefined) out.NanoCpus = r.nanoCpus;
  if (r.cpuShares !== undefined) out.CpuShares = r.cpuShares;
  if (r.cpuPeriod !== undefined) out.CpuPeriod = r.cpuPeriod;
  if (r.cpuQuota !== undefined) out.CpuQuota = r.cpuQuota;
  if (r.cpusetCpus !== undefined) out.CpusetCpus = r.cpusetCpus;
  if (r.cpusetMems !== undefined) out.CpusetMems = r.cpusetMems;
  if (r.blkioWeight !== undefined) out.BlkioWeight = r.blkioWeight;
  if (r.pidsLimit !== undefined) out.PidsLimit = r.pidsLimit;
  return out;
}

export function restartPolicyToApi(p: RestartPolicy | undefined): { Name: string; MaximumRetryCount?: number } | undefined {
  if (!p) return undefined;
  return p.name === 'on-failure' ? { Name: p.name, MaximumRetryCount: p.maximumRetryCount ?? 0 } : { Name: p.name === 'no' ? '' : p.name };
}

function healthcheckToApi(h: Healthcheck | undefined): Record<string, unknown> | undefined {
  if (!h) return undefined;
  return {
    Test: h.test,
    Interval: h.intervalMs !== undefined ? h.intervalMs * NS_PER_MS : undefined,
    Timeout: h.timeoutMs !== undefined ? h.timeoutMs * NS_PER_MS : undefined,
    Retries: h.retries,
    StartPeriod: h.startPeriodMs !== undefined ? h.startPeriodMs * NS_PER_MS : undefined,
  };
}

function portKey(p: string): string {
  return p.includes('/') ? p : `${p}/tcp`;
}

export function specToCreateOptions(spec: ContainerSpec): Docker.ContainerCreateOptions {
  const exposed: Record<string, object> = {};
  for (const p of spec.exposedPorts ?? []) exposed[portKey(p)] = {};
  const bindings: Record<string, { HostIp?: string; HostPort?: string }[]> = {};
  for (const b of spec.portBindings ?? []) {
    const key = portKey(b.containerPort);
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: b.hostIp ?? '', HostPort: b.hostPort ?? '' });
  }
  const [firstNet, ...otherNets] = spec.networks ?? [];
  const networkMode = spec.networkMode ?? firstNet?.name;
  const endpoints: Record<string, { Aliases?: string[]; Links?: string[] }> = {};
  // On a user-defined network Docker takes legacy links from the endpoint, not HostConfig.
  if (firstNet && !spec.networkMode) endpoints[firstNet.name] = { Aliases: nonEmpty(firstNet.aliases), Links: nonEmpty(spec.links) };
  const hostConfig: Record<string, unknown> = {
    ...resourcesToHostConfig(spec.resources),
    Mounts: nonEmpty(
      (spec.mounts ?? []).map((m) => ({ Type: m.type, Source: m.source, Target: m.target, ReadOnly: m.readOnly ?? false })),
    ),
    PortBindings: Object.keys(bindings).length ? bindings : undefined,
    Links: nonEmpty(spec.links),
    NetworkMode: networkMode,
    RestartPolicy: restartPolicyToApi(spec.restartPolicy),
    Privileged: spec.privileged,
    ...(spec.runtime ? { Runtime: spec.runtime } : {}),
    CapAdd: nonEmpty(spec.capAdd),
    CapDrop: nonEmpty(spec.capDrop),
    Devices: nonEmpty(
      (spec.devices ?? []).map((d) => {
        const [host = d, cont = host, perms = 'rwm'] = d.split(':');
        return { PathOnHost: host, PathInContainer: cont, CgroupPermissions: perms };
      }),
    ),
    PidMode: spec.pidMode,
    ReadonlyRootfs: spec.readonlyRootfs,
    ExtraHosts: nonEmpty(spec.extraHosts),
    AutoRemove: spec.autoRemove,
    // Defence in depth: a setuid binary inside the container (or planted in a bind) cannot raise privileges.
    SecurityOpt: ['no-new-privileges'],
    LogConfig: spec.logConfig ? { Type: spec.logConfig.type, Config: spec.logConfig.config ?? {} } : undefined,
  };
  const body: Record<string, unknown> = {
    name: spec.name,
    Image: spec.image,
    Cmd: spec.cmd,
    Entrypoint: spec.entrypoint,
    Env: spec.env,
    Labels: spec.labels ?? {},
    WorkingDir: spec.workingDir,
    User: spec.user,
    Hostname: spec.hostname,
    Tty: spec.tty ?? false,
    OpenStdin: spec.openStdin ?? false,
    StdinOnce: spec.stdinOnce,
    ExposedPorts: Object.keys(exposed).length ? exposed : undefined,
    Healthcheck: healthcheckToApi(spec.healthcheck),
    StopSignal: spec.stopSignal,
    StopTimeout: spec.stopTimeoutSec,
    HostConfig: hostConfig,
    NetworkingConfig: Object.keys(endpoints).length ? { EndpointsConfig: endpoints } : undefined,
  };
  void otherNets; // attached after create by the engine adapter (the API takes one network at create time)
  return dropUndefined(body) as Docker.ContainerCreateOptions;
}

function dropUndefined(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    out[k] = v !== null && typeof v === 'object' && !Array.isArray(v) ? dropUndefined(v as Record<string, unknown>) : v;
  }
  return out;
}

interface ApiInspect {
  Id: string;
  Name: string;
  Image: string;
  Created: string;
  State: {
    Status: string; Running: boolean; ExitCode: number; Error?: string; OOMKilled: boolean; StartedAt?: string; FinishedAt?: string;
    Health?: { Status?: string };
  };
  RestartCount?: number;
  Config: {
    Image: string; Cmd?: string[] | null; Entrypoint?: string[] | null; Env?: string[] | null; Labels?: Record<string, string> | null;
    WorkingDir?: string; User?: string; ExposedPorts?: Record<string, object> | null; StopSignal?: string; StopTimeout?: number;
    Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number };
  };
  HostConfig: Record<string, unknown> & {
    PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[] | null> | null;
    Links?: string[] | null; NetworkMode?: string; RestartPolicy?: { Name?: string; MaximumRetryCount?: number }; Privileged?: boolean;
  };
  Mounts?: { Type: string; Name?: string; Source?: string; Destination: string; RW: boolean }[];
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string; Aliases?: string[] | null; Links?: string[] | null }> };
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && v !== 0 ? v : undefined;
}

export function hostConfigToResources(h: Record<string, unknown>): ResourceLimits {
  const r: ResourceLimits = {};
  const set = <K extends keyof ResourceLimits>(k: K, v: ResourceLimits[K] | undefined) => {
    if (v !== undefined) r[k] = v;
  };
  set('memory', num(h.Memory));
  set('memoryReservation', num(h.MemoryReservation));
  set('memorySwap', num(h.MemorySwap));
  set('kernelMemory', num(h.KernelMemory));
  set('nanoCpus', num(h.NanoCpus));
  set('cpuShares', num(h.CpuShares));
  set('cpuPeriod', num(h.CpuPeriod));
  set('cpuQuota', num(h.CpuQuota));
  set('cpusetCpus', typeof h.CpusetCpus === 'string' && h.CpusetCpus ? h.CpusetCpus : undefined);
  set('cpusetMems', typeof h.CpusetMems === 'string' && h.CpusetMems ? h.CpusetMems : undefined);
  set('blkioWeight', num(h.BlkioWeight));
  set('pidsLimit', typeof h.PidsLimit === 'number' && h.PidsLimit > 0 ? h.PidsLimit : undefined);
  return r;
}

const STATUSES: ReadonlySet<string> = new Set(['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead']);
export function toStatus(s: string): ContainerStatus {
  return (STATUSES.has(s) ? s : 'dead') as ContainerStatus;
}

function toRestartPolicy(p: { Name?: string; MaximumRetryCount?: number } | undefined): RestartPolicy {
  const name = (p?.Name || 'no') as RestartPolicyName;
  return name === 'on-failure' ? { name, maximumRetryCount: p?.MaximumRetryCount ?? 0 } : { name };
}

export function inspectToDetails(raw: unknown): ContainerDetails {
  const i = raw as ApiInspect;
  const portBindings: PortBinding[] = [];
  for (const [containerPort, list] of Object.entries(i.HostConfig.PortBindings ?? {})) {
    for (const b of list ?? []) portBindings.push({ containerPort, hostIp: b.HostIp ?? '', hostPort: b.HostPort ?? '' });
  }
  const mounts: Mount[] = (i.Mounts ?? []).map((m) => ({
    type: m.Type === 'volume' ? 'volume' : m.Type === 'tmpfs' ? 'tmpfs' : 'bind',
    source: m.Type === 'volume' ? m.Name : m.Source,
    target: m.Destination,
    readOnly: !m.RW,
  }));
  const networks: ContainerDetails['networks'] = {};
  for (const [name, n] of Object.entries(i.NetworkSettings?.Networks ?? {})) {
    networks[name] = { ipAddress: n.IPAddress ?? '', aliases: n.Aliases ?? [] };
  }
  const hc = i.Config.Healthcheck;
  const health = i.State.Health?.Status as ContainerDetails['state']['health'] | undefined;
  const details: ContainerDetails = {
    id: i.Id,
    name: i.Name.replace(/^\//, ''),
    image: i.Config.Image,
    imageId: i.Image,
    created: i.Created,
    state: {
      status: toStatus(i.State.Status),
      running: i.State.Running,
      exitCode: i.State.ExitCode,
      oomKilled: i.State.OOMKilled,
      restartCount: i.RestartCount ?? 0,
      ...(i.State.Error ? { error: i.State.Error } : {}),
      ...(i.State.StartedAt ? { startedAt: i.State.StartedAt } : {}),
      ...(i.State.FinishedAt ? { finishedAt: i.State.FinishedAt } : {}),
      ...(health ? { health } : {}),
    },
    labels: i.Config.Labels ?? {},
    cmd: i.Config.Cmd ?? [],
    entrypoint: i.Config.Entrypoint ?? [],
    env: i.Config.Env ?? [],
    workingDir: i.Config.WorkingDir ?? '',
    user: i.Config.User ?? '',
    exposedPorts: Object.keys(i.Config.ExposedPorts ?? {}),
    portBindings,
    mounts,
    // On user-defined networks Docker keeps legacy links on the endpoint, not in HostConfig.
    links: [...new Set([...(i.HostConfig.Links ?? []), ...Object.values(i.NetworkSettings?.Networks ?? {}).flatMap((n) => n.Links ?? [])])],
    networkMode: i.HostConfig.NetworkMode ?? 'default',
    networks,
    restartPolicy: toRestartPolicy(i.HostConfig.RestartPolicy),
    resources: hostConfigToResources(i.HostConfig),
    privileged: i.HostConfig.Privileged ?? false,
  };
  if (hc?.Test && hc.Test.length > 0) {
    details.healthcheck = {
      test: hc.Test,
      ...(hc.Interval ? { intervalMs: hc.Interval / NS_PER_MS } : {}),
      ...(hc.Timeout ? { timeoutMs: hc.Timeout / NS_PER_MS } : {}),
      ...(hc.Retries ? { retries: hc.Retries } : {}),
      ...(hc.StartPeriod ? { startPeriodMs: hc.StartPeriod / NS_PER_MS } : {}),
    };
  }
  if (i.Config.StopSignal) details.stopSignal = i.Config.StopSignal;
  if (i.Config.StopTimeout !== undefined) details.stopTimeoutSec = i.Config.StopTimeout;
  return details;
}

export function summaryFromApi(c: Docker.ContainerInfo): ContainerSummary {
  const networks: Record<string, string> = {};
  for (const [name, n] of Object.entries(c.NetworkSettings?.Networks ?? {})) networks[name] = n.IPAddress ?? '';
  const exited = /^Exited \((-?\d+)\)/.exec(c.Status ?? '');
  return {
    ...(exited ? { exitCode: Number(exited[1]) } : {}),
    id: c.Id,
    name: (c.Names[0] ?? '').replace(/^\//, ''),
    image: c.Image,
    imageId: c.ImageID,
    status: toStatus(c.State),
    labels: c.Labels ?? {},
    created: c.Created,
    networks,
    ports: (c.Ports ?? []).map((p) => ({
      privatePort: p.PrivatePort,
      type: p.Type,
      ...(p.PublicPort ? { publicPort: p.PublicPort } : {}),
      ...(p.IP ? { ip: p.IP } : {}),
    })),
  };
}

export function labelFilters(labels: Record<string, string | true> | undefined): string[] {
  return Object.entries(labels ?? {}).map(([k, v]) => (v === true ? k : `${k}=${v}`));
}
