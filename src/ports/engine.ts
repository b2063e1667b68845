/**
 * ContainerEngine: the one port through which bosun talks to a Docker engine.
 * Bosun's own types only — no dockerode types cross this border.
 *
 * Contract (tested by test/contracts/engine.contract.ts):
 * - stop of a stopped container and remove of a missing one succeed (safe to repeat);
 * - "not there" is `undefined` from inspect/imageInspect, never an exception;
 * - failures throw BosunError with codes: not_found, image_not_found, conflict,
 *   engine_unavailable, build_failed, pull_failed, engine_error, timeout.
 */

export type RestartPolicyName = 'no' | 'always' | 'on-failure' | 'unless-stopped';

export interface RestartPolicy {
  name: RestartPolicyName;
  maximumRetryCount?: number;
}

/** Limits that the engine can change on a running container (container update API). */
export interface ResourceLimits {
  memory?: number;
  memoryReservation?: number;
  memorySwap?: number;
  kernelMemory?: number;
  nanoCpus?: number;
  cpuShares?: number;
  cpuPeriod?: number;
  cpuQuota?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  blkioWeight?: number;
  pidsLimit?: number;
}

export interface Mount {
  type: 'bind' | 'volume' | 'tmpfs';
  /** Host path (bind) or volume name (volume); absent for tmpfs and anonymous volumes. */
  source?: string;
  target: string;
  readOnly?: boolean;
}

export interface PortBinding {
  /** Container port with protocol, e.g. "80/tcp". */
  containerPort: string;
  hostIp?: string;
  /** Host port as a string ("8080", "" for random). */
  hostPort?: string;
}

export interface NetworkAttachment {
  name: string;
  aliases?: string[];
}

export interface Healthcheck {
  test: string[];
  intervalMs?: number;
  timeoutMs?: number;
  retries?: number;
  startPeriodMs?: number;
}

/** Docker's log driver and its options (json-file/local: max-size, max-file). */
export interface LogConfig {
  type: string;
  config?: Record<string, string>;
}

export interface ContainerSpec {
  name?: string;
  image: string;
  cmd?: string[];
  entrypoint?: string[];
  /** "KEY=value" entries. */
  env?: string[];
  labels?: Record<string, string>;
  workingDir?: string;
  user?: string;
  hostname?: string;
  tty?: boolean;
  openStdin?: boolean;
  exposedPorts?: string[];
  portBindings?: PortBinding[];
  mounts?: Mount[];
  /** Legacy links "container:alias". */
  links?: string[];
  networkMode?: string;
  networks?: NetworkAttachment[];
  restartPolicy?: RestartPolicy;
  resources?: ResourceLimits;
  healthcheck?: Healthcheck;
  stopSignal?: string;
  stopTimeoutSec?: number;
  privileged?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  devices?: string[];
  pidMode?: string;
  readonlyRootfs?: boolean;
  extraHosts?: string[];
  autoRemove?: boolean;
  logConfig?: LogConfig;
  /** OCI runtime registered with the daemon (runc, crun); the daemon's default when absent. */
  runtime?: string;
}

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerState {
  status: ContainerStatus;
  running: boolean;
  exitCode: number;
  error?: string;
  oomKilled: boolean;
  startedAt?: string;
  finishedAt?: string;
  health?: 'starting' | 'healthy' | 'unhealthy' | 'none';
  restartCount: number;
}

/** What inspect returns: enough of the live container to detect drift from a spec. */
export interface ContainerDetails {
  id: string;
  /** Without the leading slash. */
  name: string;
  /** The image reference the container was created from (as given). */
  image: string;
  imageId: string;
  created: string;
  state: ContainerState;
  labels: Record<string, string>;
  cmd: string[];
  entrypoint: string[];
  env: string[];
  workingDir: string;
  user: string;
  exposedPorts: string[];
  portBindings: PortBinding[];
  mounts: Mount[];
  links: string[];
  networkMode: string;
  /** Network name → endpoint details. */
  networks: Record<string, { ipAddress: string; aliases: string[] }>;
  restartPolicy: RestartPolicy;
  resources: ResourceLimits;
  healthcheck?: Healthcheck;
  stopSignal?: string;
  stopTimeoutSec?: number;
  privileged: boolean;
}

export interface ContainerSummary {
  id: string;
  name: string;
  image: string;
  imageId: string;
  status: ContainerStatus;
  labels: Record<string, string>;
  created: number;
  /** Network name → IP address. */
  networks: Record<string, string>;
  ports: { privatePort: number; publicPort?: number; type: string; ip?: string }[];
  /** For an exited container, its exit code (from Docker's "Exited (N) …" status line). */
  exitCode?: number;
}

export interface ListFilter {
  all?: boolean;
  /** label → value, or `true` for "has the label". */
  labels?: Record<string, string | true>;
  /** Docker's name filter (substring/regex as Docker applies it). */
  name?: string;
  status?: ContainerStatus[];
}

export interface ImageDetails {
  id: string;
  tags: string[];
  labels: Record<string, string>;
  created: string;
  /** The image's default entrypoint and command (what a run without them executes). */
  entrypoint?: string[];
  cmd?: string[];
}

export interface BuildRequest {
  contextDir: string;
  dockerfile?: string;
  tag: string;
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
  signal?: AbortSignal;
}

export interface BuildResult {
  imageId: string;
  log: string;
}

export interface PullRequest {
  ref: string;
  signal?: AbortSignal;
}

export interface LogsRequest {
  stdout?: boolean;
  stderr?: boolean;
  /** Keep following until the container stops. */
  follow?: boolean;
  /** At most this many bytes are kept per stream; the rest is counted and marked truncated. */
  limitBytes?: number;
  /** The container's TTY mode when the caller knows it (saves an inspect). */
  tty?: boolean;
  /** Prefix each line with its RFC 3339 timestamp. */
  timestamps?: boolean;
  /** Only the last N lines of the log. */
  tail?: number;
  /** Stop reading once stdout+stderr together pass this many bytes (the result says `overLimit`). */
  stopAfterBytes?: number;
  signal?: AbortSignal;
}

export interface AttachRequest {
  /** At most this many bytes are kept per stream; the rest is counted and marked truncated. */
  limitBytes?: number;
  /** Stop reading once stdout+stderr together pass this many bytes (the result says `overLimit`). */
  stopAfterBytes?: number;
  /** The container's TTY mode when the caller knows it (saves an inspect). */
  tty?: boolean;
  signal?: AbortSignal;
}

export interface CapturedOutput {
  stdout: string;
  stderr: string;
  stdoutBytes: number;
  stderrBytes: number;
  truncated: boolean;
  /** Reading stopped because the output passed `stopAfterBytes`. */
  overLimit?: boolean;
}

export interface ExecRequest {
  cmd: string[];
  user?: string;
  env?: string[];
  workingDir?: string;
  /** At most this many bytes are kept per stream (default 1 MiB). */
  limitBytes?: number;
  /** Stop reading once stdout+stderr together pass this many bytes (the output says `overLimit`). */
  stopAfterBytes?: number;
  /** Run in the background and return at once (exitCode undefined). */
  detach?: boolean;
  signal?: AbortSignal;
}

export interface ExecResult {
  exitCode?: number;
  output: CapturedOutput;
}

export interface ProcessEntry {
  pid: string;
  user: string;
  command: string;
}

export interface EngineEvent {
  /** container, image, network, volume, … */
  type: string;
  /** start, die, stop, destroy, health_status: healthy, … */
  action: string;
  id: string;
  /** Unix time in nanoseconds, the resume point for `since`. */
  timeNano: bigint;
  attributes: Record<string, string>;
}

export interface EventsRequest {
  /** Resume point: unix time in nanoseconds of the last event seen. */
  sinceNano?: bigint;
  types?: string[];
  labels?: Record<string, string | true>;
  signal: AbortSignal;
}

export interface EngineInfo {
  id: string;
  name: string;
  serverVersion: string;
  apiVersion: string;
  cpus: number;
  memoryBytes: number;
}

export interface NetworkSpec {
  name: string;
  driver?: string;
  internal?: boolean;
  labels?: Record<string, string>;
}

export interface ContainerEngine {
  info(signal?: AbortSignal): Promise<EngineInfo>;

  createContainer(spec: ContainerSpec): Promise<{ id: string }>;
  startContainer(idOrName: string): Promise<void>;
  /** Succeeds on an already stopped container. */
  stopContainer(idOrName: string, opts?: { timeoutSec?: number }): Promise<void>;
  killContainer(idOrName: string, signal?: string): Promise<void>;
  restartContainer(idOrName: string, opts?: { timeoutSec?: number }): Promise<void>;
  /** Succeeds on a missing container. */
  removeContainer(idOrName: string, opts?: { force?: boolean; volumes?: boolean }): Promise<void>;
  /** Resolves with the exit code once the container is not running. */
  waitContainer(idOrName: string, opts?: { signal?: AbortSignal }): Promise<{ exitCode: number }>;
  inspectContainer(idOrName: string): Promise<ContainerDetails | undefined>;
  listContainers(filter?: ListFilter): Promise<ContainerSummary[]>;
  /** Changes limits / restart policy of a live container without recreating it. */
  updateContainer(idOrName: string, update: { resources?: ResourceLimits; restartPolicy?: RestartPolicy }): Promise<void>;
  renameContainer(idOrName: string, newName: string): Promise<void>;
  logs(idOrName: string, req?: LogsRequest): Promise<CapturedOutput>;
  /**
   * Attaches to stdout/stderr (call before start to see everything); resolves once attached.
   * `output` resolves when the container's streams close, or once past `stopAfterBytes`.
   */
  attach(idOrName: string, req?: AttachRequest): Promise<{ output: Promise<CapturedOutput> }>;
  exec(idOrName: string, req: ExecRequest): Promise<ExecResult>;
  top(idOrName: string): Promise<ProcessEntry[]>;

  inspectImage(ref: string): Promise<ImageDetails | undefined>;
  pullImage(req: PullRequest): Promise<ImageDetails>;
  buildImage(req: BuildRequest): Promise<BuildResult>;
  removeImage(ref: string, opts?: { force?: boolean }): Promise<void>;

  /** Creates the network if absent; returns its id. */
  ensureNetwork(spec: NetworkSpec): Promise<string>;
  removeNetwork(name: string): Promise<void>;
  connectNetwork(network: string, container: string, opts?: { aliases?: string[] }): Promise<void>;
  disconnectNetwork(network: string, container: string, opts?: { force?: boolean }): Promise<void>;
  /** Creates the named volume if absent. */
  /** Creates the volume unless it exists; says which. */
  ensureVolume(name: string, labels?: Record<string, string>): Promise<{ created: boolean }>;
  removeVolume(name: string): Promise<void>;
  /** The volume's labels, or undefined when there is no such volume. */
  inspectVolume(name: string): Promise<{ name: string; labels: Record<string, string> } | undefined>;

  /** Live event stream; ends when `signal` aborts, throws engine_unavailable if the stream breaks. */
  events(req: EventsRequest): AsyncIterable<EngineEvent>;
}
