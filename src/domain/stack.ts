/**
 * Plain data the stack planner works on: the desired stack (from a Compose file with
 * x-bosun extensions), what the engine shows (observed containers and image ids), the
 * docker-map options, and the plan it returns. No I/O; engine types are imported as
 * types only (they vanish at runtime).
 */
import type { ContainerDetails, ContainerSpec, ProcessEntry } from './engine/index.js';

export type DependsCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface ServiceDependency {
  service: string;
  condition: DependsCondition;
  /** Compose `restart: true`: restart this service when the dependency is recreated or restarted. */
  restart: boolean;
}

export interface ExecCommand {
  cmd: string[];
  user?: string;
  /** restart: run after every start and whenever missing on update; initial: only after create. */
  policy: 'restart' | 'initial';
}

export interface DesiredService {
  name: string;
  image: string;
  build?: { context: string; dockerfile?: string; args?: Record<string, string> };
  /** Instance names; `['']` means one unnamed instance. */
  instances: string[];
  persistent: boolean;
  dependsOn: ServiceDependency[];
  /** Legacy links: the dependent is recreated when the linked container is. */
  links: { service: string; alias: string }[];
  /** Named volumes owned by this service (x-bosun attached): volume name → container path. */
  attached: Record<string, string>;
  /** chmod mode for the attached volumes when first created (x-bosun permissions); the owner is container.user. */
  attachedPermissions?: string;
  execCommands: ExecCommand[];
  /** Container template without name; the planner adds name, links and bosun labels per instance. */
  container: ContainerSpec;
  /** Fixed container name (compose container_name), only for a single instance. */
  containerName?: string;
  /** compose `network_mode: service:X`: the container joins X's network namespace (container.networkMode is rewritten per instance). */
  networkModeService?: string;
  /** Per-service override of the non-recoverable exit codes. */
  nonrecoverableExitCodes?: number[];
  /** Compose `logging`, kept so the policy can refuse drivers (containers get the engine's default driver). */
  logging?: { driver?: string; options?: Record<string, unknown> };
}

export interface DesiredNetwork {
  /** Name in the file. */
  key: string;
  /** Name on the engine. */
  name: string;
  driver?: string;
  internal?: boolean;
  external: boolean;
}

export interface DesiredVolume {
  key: string;
  name: string;
  external: boolean;
  /** Set for x-bosun attached volumes. */
  attachedTo?: string;
  /** Compose `driver_opts`, kept so the policy refuses them (bosun creates plain local volumes). */
  driverOpts?: Record<string, unknown>;
}

export interface DesiredStack {
  name: string;
  services: Record<string, DesiredService>;
  networks: DesiredNetwork[];
  volumes: DesiredVolume[];
  /** Extra labels put on everything the stack makes (networks, volumes, containers). */
  labels?: Record<string, string>;
}

/** One live container as the planner sees it; `processes` only when exec commands are checked. */
export interface ObservedContainer extends ContainerDetails {
  processes?: ProcessEntry[];
}

export interface ObservedState {
  containers: ObservedContainer[];
  /** Image reference → current image id (undefined: not present locally). */
  images: Record<string, string | undefined>;
  /** Container name → id, for every container a `network_mode: container:NAME` refers to (Docker reports the id). */
  containerIds?: Record<string, string>;
  /** False when the engine cannot change limits or restart policy in place: such drift recreates. */
  inPlaceUpdate?: boolean;
}

export type ExecCheck = 'full' | 'partial' | 'none';

export interface StackOptions {
  /** Services to act on (empty/undefined: all). */
  services?: string[];
  /** Instance names to act on (empty/undefined: all). */
  instances?: string[];
  remove_persistent: boolean;
  remove_attached: boolean;
  pull_all_images: boolean;
  pull_before_update: boolean;
  force_update: string[];
  skip_limit_reset: boolean;
  update_persistent: boolean;
  check_exec_commands: ExecCheck;
  restart_exec_commands: boolean;
  nonrecoverable_exit_codes: number[];
  /** Remove containers of the stack whose service is no longer in the file (compose --remove-orphans). */
  remove_orphans: boolean;
  /** signal action */
  signal: string;
  stop_timeout_s?: number;
}

export const DEFAULT_STACK_OPTIONS: StackOptions = {
  remove_persistent: true,
  remove_attached: false,
  pull_all_images: true,
  pull_before_update: false,
  force_update: [],
  skip_limit_reset: false,
  update_persistent: false,
  check_exec_commands: 'full',
  restart_exec_commands: false,
  nonrecoverable_exit_codes: [-127, -1],
  signal: 'SIGKILL',
  remove_orphans: false,
};

export const STACK_ACTIONS = ['create', 'start', 'restart', 'stop', 'remove', 'startup', 'shutdown', 'update', 'signal', 'pull'] as const;
export type StackActionName = (typeof STACK_ACTIONS)[number];

/** One engine operation on one container, in the order the executor runs them. */
export type ContainerOp =
  | { op: 'build' }
  | { op: 'pull' }
  | { op: 'stop' }
  | { op: 'remove' }
  | { op: 'create' }
  | { op: 'start' }
  | { op: 'restart' }
  | { op: 'kill'; signal: string }
  | { op: 'update_in_place'; resources?: ContainerSpec['resources']; restartPolicy?: ContainerSpec['restartPolicy'] }
  | { op: 'connect'; network: string; aliases: string[] }
  | { op: 'disconnect'; network: string }
  | { op: 'exec'; command: ExecCommand };

export interface ContainerStep {
  /** Container name on the engine. */
  container: string;
  service: string;
  instance: string;
  /** Id of the existing container, if any. */
  existingId?: string;
  ops: ContainerOp[];
  /** Why: which fields drifted, what was missing, what was skipped. */
  reasons: string[];
  /** Steps (by container name) that must finish first. */
  after: string[];
  /** Conditions on dependencies to meet before this step's start (compose depends_on). */
  waitFor: { container: string; condition: DependsCondition }[];
  /** Desired spec when the step creates the container. */
  spec?: ContainerSpec;
}

export interface StackPlan {
  stack: string;
  action: StackActionName;
  networks: DesiredNetwork[];
  volumes: DesiredVolume[];
  steps: ContainerStep[];
  /** Volumes to remove afterwards (attached volumes with remove_attached). */
  removeVolumes: string[];
}
