/**
 * The host-safety policy file: one schema, every knob with its safe default.
 * Enforcement lives beside it, one file per concern (host paths, namespaces, host-reaching
 * fields, limits, ownership of containers, publishers); `../policy.ts` composes them.
 */
import { z } from 'zod';

/** Where bosun keeps what containers may bind and build from: root-owned, created by bosun. */
export const DEFAULT_BOSUN_ROOT = '/srv/bosun';

const size = z.union([z.number().int().positive(), z.string().regex(/^\d+(\.\d+)?[kmg]?b?$/i, 'bytes or a size like "256m"')]);

/** Per-container limits: what a run or service gets when it asks for nothing, and the most it may ask for. */
export const LimitsSchema = z
  .object({
    memory: size.optional(),
    cpus: z.number().positive().max(1024).optional(),
    pids_limit: z.number().int().positive().optional(),
    /** Docker json-file/local log rotation: size of one file and how many are kept. */
    log_max_size: size.optional(),
    log_max_file: z.number().int().positive().max(100).optional(),
    /** Bytes of stdout+stderr an attached run may produce before it is stopped (far beyond what is kept in the reply). */
    output_bytes: size.optional(),
    /** Live output (`stream: true`): most bytes of data in one chunk. */
    stream_chunk_bytes: size.optional(),
    /** Live output: most chunks published in any one second while the run goes on. */
    stream_chunks_per_second: z.number().int().positive().optional(),
    /** Live output: most bytes streamed per run; past it one truncated chunk, the rest only in the final envelope. */
    stream_bytes: size.optional(),
  })
  .strict();
export type Limits = z.infer<typeof LimitsSchema>;

export const DEFAULT_LIMITS: Limits = { memory: '512m', cpus: 1, pids_limit: 512, log_max_size: '10m', log_max_file: 3, output_bytes: '64m', stream_chunk_bytes: '16k', stream_chunks_per_second: 20, stream_bytes: '1m' };
export const DEFAULT_MAX_LIMITS: Limits = { memory: '8g', cpus: 64, pids_limit: 32768, log_max_size: '100m', log_max_file: 10, output_bytes: '1g', stream_chunk_bytes: '1m', stream_chunks_per_second: 1000, stream_bytes: '64m' };

/** How much one publisher (or everyone together) may hold at once or start per minute. */
export const QuotasSchema = z
  .object({
    /** Running containers bosun made from detached runs (start_container.create, dispatch run without Attach), all publishers together. */
    max_running_detached: z.number().int().nonnegative().optional(),
    /** The same, per publisher. */
    max_running_detached_per_publisher: z.number().int().nonnegative().optional(),
    /** Container runs (attached or detached) one publisher may start per minute. */
    runs_per_minute: z.number().int().nonnegative().optional(),
  })
  .strict();
export type Quotas = z.infer<typeof QuotasSchema>;
export const DEFAULT_QUOTAS: Quotas = { max_running_detached: 200, max_running_detached_per_publisher: 50, runs_per_minute: 600 };

/** Host ports a container may publish. */
export const PortsPolicySchema = z
  .object({
    /** Host addresses a port may bind to; "0.0.0.0"/"::"/"" (all interfaces) only when listed. */
    allowed_host_ips: z.array(z.string()).default(['127.0.0.1', '::1']),
    /** Lowest host port that may be published (below 1024 are the host's privileged ports). */
    min_host_port: z.number().int().min(0).max(65535).default(1024),
  })
  .strict();

const policyFields = {
  images: z
    .object({
      /** Glob patterns (`*` any run of characters). */
      allow: z.array(z.string()).default(['*']),
      deny: z.array(z.string()).default([]),
    })
    .strict()
    .default({ allow: ['*'], deny: [] }),
  /** Host paths that binds may use (a path below one of these). */
  bind_roots: z.array(z.string()).default([DEFAULT_BOSUN_ROOT]),
  /** Directories a build context (and a stack file sent by message) may be in. */
  build_roots: z.array(z.string()).default([DEFAULT_BOSUN_ROOT]),
  allow_privileged: z.boolean().default(false),
  allow_host_network: z.boolean().default(false),
  allow_host_pid: z.boolean().default(false),
  /** ipc, uts, userns and cgroupns set to "host". */
  allow_host_namespaces: z.boolean().default(false),
  /** security_opt that weakens confinement (seccomp/apparmor/label unconfined, no no-new-privileges), emptied masked/readonly paths. */
  allow_unconfined: z.boolean().default(false),
  /** Sysctl names (globs) a container may set; none by default. */
  allowed_sysctls: z.array(z.string()).default([]),
  allow_cgroup_parent: z.boolean().default(false),
  /** Capabilities that cap_add may name. */
  allowed_capabilities: z.array(z.string()).default([]),
  /** devices and device cgroup rules. */
  allow_devices: z.boolean().default(false),
  /** Log drivers a container may use (drivers that send to addresses reach the network from the daemon). */
  allowed_log_drivers: z.array(z.string()).default(['json-file', 'local']),
  /** Volume driver options (they can mount host paths and remote filesystems). */
  allow_volume_driver_opts: z.boolean().default(false),
  /** Which containers the lifecycle channels may act on: those bosun made (labelled) or any on the host. */
  container_scope: z.enum(['bosun', 'any']).default('bosun'),
  ports: PortsPolicySchema.default({ allowed_host_ips: ['127.0.0.1', '::1'], min_host_port: 1024 }),
  /** Host paths never mountable, whatever the roots say. */
  forbidden_paths: z
    .array(z.string())
    .default(['/var/run/docker.sock', '/run/docker.sock', '/run/podman', '/var/run/podman', '/etc', '/proc', '/sys', '/dev', '/root', '/boot', '/var/lib/docker', '/var/lib/containers']),
  /** OCI runtimes a run may name (`runtime`); a run naming none gets the daemon's default. */
  allowed_runtimes: z.array(z.string()).default(['runc', 'crun']),
  /** Upper bound on any run's timeout. */
  max_timeout_s: z.number().positive().default(24 * 3600),
  /** Applied when a container asks for nothing. */
  default_limits: LimitsSchema.default(DEFAULT_LIMITS),
  /** The most a container may ask for. */
  max_limits: LimitsSchema.default(DEFAULT_MAX_LIMITS),
  quotas: QuotasSchema.default(DEFAULT_QUOTAS),
  /**
   * Channels a workflow's `bosun:publish` task may publish to (globs, `*` any run of characters);
   * bosun's own control channels are refused whatever this says (src/workflow/durable/publish-policy.ts).
   * Absent: every channel on an agent whose policy names no publishers, none on one that names
   * them (`users`) — the agent publishes with its own broker rights, which one tenant must not
   * turn against another's queues unless the operator lists the channels.
   */
  workflow_publish: z
    .object({
      allow: z.array(z.string()).default(['*']),
      deny: z.array(z.string()).default([]),
    })
    .strict()
    .optional(),
};

type Undefaulted<T> = { [K in keyof T]: T[K] extends z.ZodDefault<infer I> ? I : T[K] };

/** zod 4 fills defaults even inside optional fields: a user's policy must hold only what its file says. */
function undefaulted<T extends Record<string, z.ZodType>>(fields: T): Undefaulted<T> {
  const out: Record<string, z.ZodType> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = v instanceof z.ZodDefault ? (v.unwrap() as z.ZodType) : v;
  return out as Undefaulted<T>;
}

/** What a named publisher may override: any policy field (replacing the base value; limits and quotas merge key by key). */
export const PublisherPolicySchema = z.object(undefaulted(policyFields)).partial().strict();
export type PublisherPolicy = z.infer<typeof PublisherPolicySchema>;

export const PolicySchema = z
  .object({
    ...policyFields,
    /**
     * Named publishers (RabbitMQ's validated `user_id`). When present, a message without a
     * user_id, or from a user not named here, is refused; each user's fields override the base.
     */
    users: z.record(z.string().min(1), PublisherPolicySchema).optional(),
  })
  .strict();

export type Policy = z.infer<typeof PolicySchema>;
export const DEFAULT_POLICY: Policy = PolicySchema.parse({});
