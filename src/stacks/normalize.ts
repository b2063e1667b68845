/**
 * A validated Compose file → the planner's DesiredStack: names resolved to engine names
 * (`<stack>_<network>`, `<stack>_<volume>`), values parsed, x-bosun applied. Value errors
 * are collected with the path that caused them, so the loader can give their line.
 */
import { readFileSync } from 'node:fs';
import { BosunError } from '../domain/errors.js';
import { resolve } from 'node:path';
import type { ContainerSpec, Healthcheck, Mount, PortBinding, ResourceLimits, RestartPolicy } from '../domain/engine/index.js';
import type { DependsCondition, DesiredNetwork, DesiredService, DesiredStack, DesiredVolume, ExecCommand } from '../domain/stack.js';
import type { ComposeFile, ComposeService } from './compose-schema.js';
import { listToMap, shellSplit, parseCpus, parseDurationMs, parseEnvFile, parsePortShort, parseSize, parseVolumeShort } from './compose-values.js';

export interface Problem {
  path: (string | number)[];
  message: string;
}

export interface NormalizeOptions {
  name: string;
  baseDir: string;
  /** Labels added to every container, network and volume (tests mark theirs). */
  extraLabels?: Record<string, string>;
  /** Reads every host file besides the stack file (env_file); throws to refuse it. Default: readFileSync. */
  readFile?: (absPath: string, field: string) => string;
}

const toArgv = (v: string | string[]): string[] => (Array.isArray(v) ? v : shellSplit(v));

function restartPolicy(v: string | undefined): RestartPolicy | undefined {
  if (!v) return undefined;
  const [name, count] = v.split(':');
  return name === 'on-failure' ? { name, maximumRetryCount: Number(count ?? 0) } : { name: name as RestartPolicy['name'] };
}

function healthcheck(h: ComposeService['healthcheck']): Healthcheck | undefined {
  if (!h || !h.test) return h?.disable ? { test: ['NONE'] } : undefined;
  const test = typeof h.test === 'string' ? ['CMD-SHELL', h.test] : h.test;
  if (h.disable || test[0] === 'NONE') return { test: ['NONE'] };
  return {
    test,
    ...(h.interval !== undefined ? { intervalMs: parseDurationMs(h.interval) } : {}),
    ...(h.timeout !== undefined ? { timeoutMs: parseDurationMs(h.timeout) } : {}),
    ...(h.retries !== undefined ? { retries: h.retries } : {}),
    ...(h.start_period !== undefined ? { startPeriodMs: parseDurationMs(h.start_period) } : {}),
  };
}

function resources(s: ComposeService): ResourceLimits | undefined {
  const r: ResourceLimits = {};
  const lim = s.deploy?.resources?.limits;
  const res = s.deploy?.resources?.reservations;
  const mem = s.mem_limit ?? lim?.memory;
  if (mem !== undefined) r.memory = parseSize(mem);
  const reservation = s.mem_reservation ?? res?.memory;
  if (reservation !== undefined) r.memoryReservation = parseSize(reservation);
  if (s.memswap_limit !== undefined) r.memorySwap = s.memswap_limit === -1 || s.memswap_limit === '-1' ? -1 : parseSize(s.memswap_limit);
  const cpus = s.cpus ?? lim?.cpus;
  if (cpus !== undefined) r.nanoCpus = parseCpus(cpus);
  if (s.cpu_shares !== undefined) r.cpuShares = s.cpu_shares;
  if (s.cpu_quota !== undefined) r.cpuQuota = s.cpu_quota;
  if (s.cpu_period !== undefined) r.cpuPeriod = s.cpu_period;
  if (s.cpuset !== undefined) r.cpusetCpus = s.cpuset;
  const pids = s.pids_limit ?? lim?.pids;
  if (pids !== undefined) r.pidsLimit = pids;
  if (s.blkio_config?.weight !== undefined) r.blkioWeight = s.blkio_config.weight;
  return Object.keys(r).length ? r : undefined;
}

function environment(s: ComposeService, baseDir: string, hostEnv: Record<string, string | undefined>, read: (absPath: string) => string): string[] {
  const env: Record<string, string | undefined> = {};
  for (const f of s.env_file === undefined ? [] : Array.isArray(s.env_file) ? s.env_file : [s.env_file]) {
    Object.assign(env, parseEnvFile(read(resolve(baseDir, f))));
  }
  for (const [k, v] of Object.entries(listToMap(s.environment))) env[k] = v ?? hostEnv[k];
  return Object.entries(env).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
}

/** x-bosun instances by name; else compose deploy.replicas / scale as instances "1".."N"; else one unnamed. */
function instanceNames(s: ComposeService): string[] {
  if (s['x-bosun']?.instances) return s['x-bosun'].instances;
  const replicas = s.deploy?.replicas ?? s.scale;
  return replicas === undefined ? [''] : Array.from({ length: replicas }, (_, i) => String(i + 1));
}

function service(file: ComposeFile, name: string, s: ComposeService, o: NormalizeOptions, nets: DesiredNetwork[], vols: DesiredVolume[], hostEnv: Record<string, string | undefined>): DesiredService {
  const volumeName = (key: string) => vols.find((v) => v.key === key)?.name ?? `${o.name}_${key}`;
  const x = s['x-bosun'] ?? {};
  const ports: PortBinding[] = (s.ports ?? []).map((p) =>
    typeof p === 'object'
      ? { containerPort: `${p.target}/${p.protocol ?? 'tcp'}`, hostPort: p.published === undefined ? '' : String(p.published), ...(p.host_ip ? { hostIp: p.host_ip } : {}) }
      : parsePortShort(p),
  );
  const mounts: Mount[] = (s.volumes ?? []).map((v) =>
    typeof v === 'string'
      ? parseVolumeShort(v, o.baseDir, volumeName)
      : {
          type: v.type,
          target: v.target,
          ...(v.source !== undefined ? { source: v.type === 'bind' ? resolve(o.baseDir, v.source) : v.type === 'volume' ? volumeName(v.source) : v.source } : {}),
          ...(v.read_only ? { readOnly: true } : {}),
        },
  );
  const attached = Object.fromEntries(Object.entries(x.attached ?? {}).map(([k, path]) => [`${o.name}_${name}_${k}`, path]));
  for (const [vol, path] of Object.entries(attached)) mounts.push({ type: 'volume', source: vol, target: path });
  const netKeys = s.network_mode ? [] : s.networks === undefined ? ['default'] : Array.isArray(s.networks) ? s.networks : Object.keys(s.networks);
  const networks = netKeys.map((k) => {
    const extra = !Array.isArray(s.networks) ? (s.networks?.[k]?.aliases ?? []) : [];
    return { name: nets.find((n) => n.key === k)?.name ?? `${o.name}_${k}`, aliases: [name, ...extra] };
  });
  const labels = { ...listToMap(s.labels), ...(o.extraLabels ?? {}) };
  const container: ContainerSpec = {
    image: s.image ?? `${o.name}-${name}`,
    ...(s.command ? { cmd: toArgv(s.command) } : {}),
    ...(s.entrypoint ? { entrypoint: toArgv(s.entrypoint) } : {}),
    env: environment(s, o.baseDir, hostEnv, (path) => (o.readFile ? o.readFile(path, `services.${name}.env_file`) : readFileSync(path, 'utf8'))),
    labels: Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, v ?? ''])),
    ...(s.working_dir ? { workingDir: s.working_dir } : {}),
    ...(s.user !== undefined ? { user: String(s.user) } : {}),
    ...(s.hostname ? { hostname: s.hostname } : {}),
    ...(s.tty ? { tty: true } : {}),
    ...(s.stdin_open ? { openStdin: true } : {}),
    ...(s.expose?.length ? { exposedPorts: s.expose.map((p) => (String(p).includes('/') ? String(p) : `${p}/tcp`)) } : {}),
    ...(ports.length ? { portBindings: ports } : {}),
    ...(mounts.length ? { mounts } : {}),
    ...(s.network_mode ? { networkMode: s.network_mode } : {}),
    ...(networks.length ? { networks } : {}),
    ...(s.restart ? { restartPolicy: restartPolicy(s.restart)! } : {}),
    ...(resources(s) ? { resources: resources(s)! } : {}),
    ...(healthcheck(s.healthcheck) ? { healthcheck: healthcheck(s.healthcheck)! } : {}),
    ...(s.stop_signal ? { stopSignal: s.stop_signal } : {}),
    ...(s.stop_grace_period !== undefined ? { stopTimeoutSec: Math.ceil(parseDurationMs(s.stop_grace_period) / 1000) } : {}),
    ...(s.privileged ? { privileged: true } : {}),
    ...(s.cap_add ? { capAdd: s.cap_add } : {}),
    ...(s.cap_drop ? { capDrop: s.cap_drop } : {}),
    ...(s.devices ? { devices: s.devices } : {}),
    ...(s.pid ? { pidMode: s.pid } : {}),
    ...(s.read_only ? { readonlyRootfs: true } : {}),
    ...(s.extra_hosts ? { extraHosts: Array.isArray(s.extra_hosts) ? s.extra_hosts : Object.entries(s.extra_hosts).map(([h, ip]) => `${h}:${ip}`) } : {}),
  };
  const dependsOn = Array.isArray(s.depends_on)
    ? s.depends_on.map((d) => ({ service: d, condition: 'service_started' as DependsCondition, restart: false }))
    : Object.entries(s.depends_on ?? {}).map(([d, v]) => ({ service: d, condition: v.condition, restart: v.restart ?? false }));
  // network_mode service:X shares X's network namespace: X must exist first.
  const netService = s.network_mode?.startsWith('service:') ? s.network_mode.slice('service:'.length) : undefined;
  if (netService && !dependsOn.some((d) => d.service === netService)) dependsOn.push({ service: netService, condition: 'service_started', restart: false });
  const pidService = s.pid?.startsWith('service:') ? s.pid.slice('service:'.length) : undefined;
  if (pidService && !dependsOn.some((d) => d.service === pidService)) dependsOn.push({ service: pidService, condition: 'service_started', restart: false });
  const links = [...(s.links ?? []), ...(x.links ?? [])].map((l) => {
    const [svc = l, alias = svc] = l.split(':');
    return { service: svc, alias };
  });
  const exec: ExecCommand[] = (x.exec_commands ?? []).map((c) => ({ cmd: toArgv(c.cmd), policy: c.policy, ...(c.user ? { user: c.user } : {}) }));
  void file;
  return {
    name,
    image: container.image,
    ...(s.build !== undefined
      ? { build: typeof s.build === 'string' ? { context: resolve(o.baseDir, s.build) } : { context: resolve(o.baseDir, s.build.context), ...(s.build.dockerfile ? { dockerfile: s.build.dockerfile } : {}), ...(s.build.args ? { args: Object.fromEntries(Object.entries(listToMap(s.build.args)).map(([k, v]) => [k, v ?? ''])) } : {}) } }
      : {}),
    instances: instanceNames(s),
    persistent: x.persistent ?? false,
    dependsOn,
    links,
    attached,
    execCommands: exec,
    container,
    ...(s.container_name ? { containerName: s.container_name } : {}),
    ...(x.nonrecoverable_exit_codes ? { nonrecoverableExitCodes: x.nonrecoverable_exit_codes } : {}),
    ...(netService ? { networkModeService: netService } : {}),
    ...(x.permissions ? { attachedPermissions: x.permissions } : {}),
    ...(s.logging ? { logging: { ...(s.logging.driver !== undefined ? { driver: s.logging.driver } : {}), ...(s.logging.options ? { options: s.logging.options } : {}) } } : {}),
  };
}

export function normalizeCompose(file: ComposeFile, o: NormalizeOptions, hostEnv: Record<string, string | undefined>, problems: Problem[]): DesiredStack {
  const networks: DesiredNetwork[] = Object.entries(file.networks ?? {}).map(([key, n]) => ({
    key,
    name: n?.name ?? (n?.external ? key : `${o.name}_${key}`),
    external: Boolean(n?.external),
    ...(n?.driver ? { driver: n.driver } : {}),
    ...(n?.internal ? { internal: true } : {}),
  }));
  const volumes: DesiredVolume[] = Object.entries(file.volumes ?? {}).map(([key, v]) => ({
    key,
    name: v?.name ?? (v?.external ? key : `${o.name}_${key}`),
    external: Boolean(v?.external),
    ...(v?.driver_opts && Object.keys(v.driver_opts).length ? { driverOpts: v.driver_opts } : {}),
  }));
  for (const [key, n] of Object.entries(file.networks ?? {})) {
    if (n?.driver_opts && Object.keys(n.driver_opts).length) problems.push({ path: ['networks', key, 'driver_opts'], message: 'network driver_opts are not supported by bosun (create the network yourself and mark it external)' });
  }
  const usesDefault = Object.values(file.services).some((s) => !s['x-bosun']?.abstract && !s.network_mode && s.networks === undefined);
  if (usesDefault && !networks.some((n) => n.key === 'default')) networks.push({ key: 'default', name: `${o.name}_default`, external: false });
  const services: Record<string, DesiredService> = {};
  for (const [name, s] of Object.entries(file.services)) {
    if (s['x-bosun']?.abstract) continue;
    try {
      if (!s.image && !s.build) problems.push({ path: ['services', name], message: `service "${name}" needs an image or a build` });
      const replicas = s.deploy?.replicas ?? s.scale;
      if (replicas !== undefined && s['x-bosun']?.instances) problems.push({ path: ['services', name, 'x-bosun', 'instances'], message: 'give either x-bosun.instances (named) or deploy.replicas / scale (counted), not both' });
      if (s.deploy?.replicas !== undefined && s.scale !== undefined && s.deploy.replicas !== s.scale) problems.push({ path: ['services', name, 'scale'], message: `scale (${s.scale}) and deploy.replicas (${s.deploy.replicas}) disagree` });
      if (s.container_name && instanceNames(s).length > 1) problems.push({ path: ['services', name, 'container_name'], message: 'container_name cannot be used with several instances' });
      if (s.network_mode && s.networks !== undefined) problems.push({ path: ['services', name, 'network_mode'], message: 'network_mode and networks cannot be used together' });
      const netKeys = Array.isArray(s.networks) ? s.networks : Object.keys(s.networks ?? {});
      for (const k of netKeys) if (!networks.some((n) => n.key === k)) problems.push({ path: ['services', name, 'networks'], message: `service "${name}" uses undefined network "${k}"` });
      for (const [i, v] of (s.volumes ?? []).entries()) {
        const src = typeof v === 'string' ? (v.split(':').length > 1 ? v.split(':')[0]! : '') : v.type === 'volume' ? (v.source ?? '') : '';
        if (src && !/^[.~/]/.test(src) && !volumes.some((x) => x.key === src)) problems.push({ path: ['services', name, 'volumes', i], message: `service "${name}" uses undefined volume "${src}"` });
      }
      services[name] = service(file, name, s, o, networks, volumes, hostEnv);
      for (const [vol] of Object.entries(services[name]!.attached)) volumes.push({ key: vol, name: vol, external: false, attachedTo: name });
    } catch (e) {
      if (e instanceof BosunError && e.code === 'policy_denied') throw e;
      problems.push({ path: ['services', name], message: e instanceof Error ? e.message : String(e) });
    }
  }
  applyUses(file, o.name, services, problems);
  for (const [name, svc] of Object.entries(services)) {
    for (const target of [...svc.links.map((l) => l.service), ...(svc.networkModeService ? [svc.networkModeService] : [])]) {
      if (services[target]?.instances.length === 0) problems.push({ path: ['services', name], message: `service "${name}" links to or shares the network of "${target}", which has no instances (replicas: 0)` });
    }
  }
  return { name: o.name, services, networks, volumes, ...(o.extraLabels ? { labels: o.extraLabels } : {}) };
}

/** docker-map's uses: mount other services' attached volumes at their paths; the owner comes first. */
function applyUses(file: ComposeFile, stackName: string, services: Record<string, DesiredService>, problems: Problem[]): void {
  for (const [name, s] of Object.entries(file.services)) {
    const svc = services[name];
    for (const [i, ref] of (s['x-bosun']?.uses ?? []).entries()) {
      // `service` (service names may hold dots) or `service.volume`
      const dot = ref.lastIndexOf('.');
      const [owner, vol] = file.services[ref] || dot < 0 ? [ref, undefined] : [ref.slice(0, dot), ref.slice(dot + 1)];
      const target = services[owner];
      const path = ['services', name, 'x-bosun', 'uses', i];
      if (!target) {
        problems.push({ path, message: `uses undefined service "${owner}"` });
        continue;
      }
      const attached = Object.entries(target.attached).filter(([v]) => vol === undefined || v === `${stackName}_${owner}_${vol}`);
      if (!attached.length) {
        problems.push({ path, message: vol === undefined ? `service "${owner}" has no attached volumes` : `service "${owner}" has no attached volume "${vol}"` });
        continue;
      }
      if (!svc) continue;
      for (const [volume, at] of attached) {
        const mounts = (svc.container.mounts ??= []);
        const clash = mounts.find((m) => m.target === at);
        if (!clash) mounts.push({ type: 'volume', source: volume, target: at });
        else if (clash.source !== volume) problems.push({ path, message: `${volume} would be mounted at ${at}, where ${clash.source ?? 'another mount'} already is` });
      }
      if (!svc.dependsOn.some((d) => d.service === owner)) svc.dependsOn.push({ service: owner, condition: 'service_started', restart: false });
    }
  }
}
