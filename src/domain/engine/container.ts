/** Containers as bosun sees them: what it asks an engine to create, and what it reads back. */

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
  /** With openStdin: stdin closes (EOF) once the attached client that wrote it disconnects. */
  stdinOnce?: boolean;
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



export interface ProcessEntry {
  pid: string;
  user: string;
  command: string;
}

