/**
 * The Compose Specification as bosun reads it (the parts it acts on), plus the x-bosun
 * extensions for docker-map's concepts. Unknown keys are refused (so typos are caught with
 * their line) except `x-*` extension keys, which Compose reserves for tools.
 */
import { z } from 'zod';

const str = z.string();
const strOrList = z.union([str, z.array(str)]);
const scalar = z.union([str, z.number(), z.boolean(), z.null()]);
const mapOrList = z.union([z.record(str, scalar), z.array(str)]);
const sizeOrNumber = z.union([str, z.number()]);
const duration = z.union([str, z.number()]);

/** An object that refuses unknown keys other than `x-*`. */
function composeObject<T extends z.ZodRawShape>(shape: T) {
  return z.looseObject(shape).superRefine((o, ctx) => {
    for (const k of Object.keys(o)) {
      if (!(k in shape) && !k.startsWith('x-')) ctx.addIssue({ code: 'custom', path: [k], message: `unknown key "${k}"` });
    }
  });
}

export const ExecCommandSchema = composeObject({
  cmd: strOrList,
  user: str.optional(),
  policy: z.enum(['restart', 'initial']).default('restart'),
});

export const XBosunServiceSchema = composeObject({
  instances: z.array(str.regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'instance names: letters, digits, _ . -')).min(1).optional(),
  persistent: z.boolean().optional(),
  /** docker-map's uses: mount another service's attached volumes (`service`: all of them, `service.volume`: one) at their paths. */
  uses: z.array(str.regex(/^[a-zA-Z0-9._-]+$/, 'uses: service or service.volume')).optional(),
  /** docker-map's permissions: chmod mode applied to this service's attached volumes when they are first created (owner: the service's user). */
  permissions: str.regex(/^([0-7]{3,4}|[ugoa]*[-+=][rwxXst]*(,[ugoa]*[-+=][rwxXst]*)*)$/, 'permissions: a chmod mode, e.g. 0750 or u=rwX,g=rX,o=').optional(),
  /** docker-map's abstract: a template for `extends`, never made into containers. */
  abstract: z.boolean().optional(),
  attached: z.record(str, str.startsWith('/', 'attached volume paths must be absolute')).optional(),
  exec_commands: z.array(ExecCommandSchema).optional(),
  nonrecoverable_exit_codes: z.array(z.number().int()).optional(),
  links: z.array(str).optional(),
});

const PortLong = composeObject({
  target: z.number().int(),
  published: z.union([str, z.number().int()]).optional(),
  host_ip: str.optional(),
  protocol: z.enum(['tcp', 'udp', 'sctp']).optional(),
  mode: str.optional(),
});

const VolumeLong = composeObject({
  type: z.enum(['bind', 'volume', 'tmpfs']),
  source: str.optional(),
  target: str,
  read_only: z.boolean().optional(),
  bind: z.record(str, z.unknown()).optional(),
  volume: z.record(str, z.unknown()).optional(),
  tmpfs: z.record(str, z.unknown()).optional(),
});

const DependsLong = composeObject({
  condition: z.enum(['service_started', 'service_healthy', 'service_completed_successfully']).default('service_started'),
  restart: z.boolean().optional(),
  required: z.boolean().optional(),
});

const Healthcheck = composeObject({
  test: strOrList.optional(),
  interval: duration.optional(),
  timeout: duration.optional(),
  retries: z.number().int().optional(),
  start_period: duration.optional(),
  start_interval: duration.optional(),
  disable: z.boolean().optional(),
});

const Resources = composeObject({ cpus: z.union([str, z.number()]).optional(), memory: sizeOrNumber.optional(), pids: z.number().int().optional() });

const Deploy = composeObject({
  resources: composeObject({ limits: Resources.optional(), reservations: Resources.optional() }).optional(),
  replicas: z.number().int().min(0).optional(),
  restart_policy: z.record(str, z.unknown()).optional(),
  labels: mapOrList.optional(),
});

export const ServiceSchema = composeObject({
  image: str.optional(),
  build: z.union([str, composeObject({ context: str.default('.'), dockerfile: str.optional(), args: mapOrList.optional() })]).optional(),
  command: strOrList.nullable().optional(),
  entrypoint: strOrList.nullable().optional(),
  environment: mapOrList.optional(),
  env_file: strOrList.optional(),
  ports: z.array(z.union([str, z.number(), PortLong])).optional(),
  expose: z.array(z.union([str, z.number()])).optional(),
  volumes: z.array(z.union([str, VolumeLong])).optional(),
  networks: z.union([z.array(str), z.record(str, composeObject({ aliases: z.array(str).optional() }).nullable())]).optional(),
  network_mode: str.optional(),
  depends_on: z.union([z.array(str), z.record(str, DependsLong)]).optional(),
  healthcheck: Healthcheck.optional(),
  labels: mapOrList.optional(),
  restart: str.regex(/^(no|always|unless-stopped|on-failure(:\d+)?)$/, 'restart: no | always | unless-stopped | on-failure[:N]').optional(),
  stop_signal: str.optional(),
  stop_grace_period: duration.optional(),
  user: z.union([str, z.number()]).optional(),
  working_dir: str.optional(),
  deploy: Deploy.optional(),
  cpus: z.union([str, z.number()]).optional(),
  cpu_shares: z.number().int().optional(),
  cpu_quota: z.number().int().optional(),
  cpu_period: z.number().int().optional(),
  cpuset: str.optional(),
  mem_limit: sizeOrNumber.optional(),
  memswap_limit: sizeOrNumber.optional(),
  mem_reservation: sizeOrNumber.optional(),
  pids_limit: z.number().int().optional(),
  blkio_config: composeObject({ weight: z.number().int().optional() }).optional(),
  container_name: str.optional(),
  scale: z.number().int().min(0).optional(),
  hostname: str.optional(),
  tty: z.boolean().optional(),
  stdin_open: z.boolean().optional(),
  privileged: z.boolean().optional(),
  cap_add: z.array(str).optional(),
  cap_drop: z.array(str).optional(),
  devices: z.array(str).optional(),
  extra_hosts: z.union([z.array(str), z.record(str, str)]).optional(),
  pid: str.optional(),
  read_only: z.boolean().optional(),
  links: z.array(str).optional(),
  init: z.boolean().optional(),
  logging: composeObject({ driver: str.optional(), options: z.record(str, z.unknown()).optional() }).optional(),
  'x-bosun': XBosunServiceSchema.optional(),
});

const NetworkSchema = composeObject({
  driver: str.optional(),
  internal: z.boolean().optional(),
  external: z.union([z.boolean(), z.record(str, z.unknown())]).optional(),
  name: str.optional(),
  labels: mapOrList.optional(),
  driver_opts: z.record(str, z.unknown()).optional(),
  attachable: z.boolean().optional(),
});

const VolumeSchema = composeObject({
  driver: str.optional(),
  external: z.union([z.boolean(), z.record(str, z.unknown())]).optional(),
  name: str.optional(),
  labels: mapOrList.optional(),
  driver_opts: z.record(str, z.unknown()).optional(),
});

export const ComposeFileSchema = composeObject({
  version: z.union([str, z.number()]).optional(),
  name: str.regex(/^[a-z0-9][a-z0-9_-]*$/, 'project names: lowercase letters, digits, _ and -').optional(),
  services: z.record(str.regex(/^[a-zA-Z0-9._-]+$/, 'service names: letters, digits, . _ -'), ServiceSchema),
  networks: z.record(str, NetworkSchema.nullable()).optional(),
  volumes: z.record(str, VolumeSchema.nullable()).optional(),
});

export type ComposeFile = z.infer<typeof ComposeFileSchema>;
export type ComposeService = z.infer<typeof ServiceSchema>;
