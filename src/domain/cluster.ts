/**
 * Plain data the cluster planner works on. No I/O, no clocks: `now` is always passed in.
 */

export interface Resources {
  /** CPU in millicores. */
  cpu: number;
  memMb: number;
  diskMb: number;
}

export const NO_RESOURCES: Resources = { cpu: 0, memMb: 0, diskMb: 0 };

/** A placement constraint on node labels (`node.label op value`). */
export interface Constraint {
  label: string;
  op: '=' | '!=';
  value: string;
}

export interface ContainerTemplate {
  /** Base container name (seed 001's `container.name`); replicas get `<name>-<slot>-g<generation>`. */
  name: string;
  image: string;
  env?: string[];
  cmd?: string[];
  /** "[hostIp:]hostPort:containerPort[/proto]" */
  ports?: string[];
  /** "/host/path:/container/path[:ro|rw]" or "volume:/container/path[:ro|rw]"; the node's policy decides. */
  volumes?: string[];
  labels?: Record<string, string>;
  /** What one replica asks for; checked against the node's free resources. */
  resources?: Resources;
}

export interface ServiceSpec {
  name: string;
  replicas: number;
  container: ContainerTemplate;
  constraints: Constraint[];
  /** Bumped on every change of `container` (rolling update trigger). */
  version: number;
  /** Deleted services converge to zero replicas, then disappear. */
  deleted: boolean;
}

export type NodeStatus = 'ready' | 'draining';

export interface NodeView {
  name: string;
  labels: Record<string, string>;
  free: Resources;
  status: NodeStatus;
  /** Controller-local time (ms) of the last heartbeat received. */
  lastHeartbeat: number;
}

/**
 * Observed state of one assignment:
 * pending (sent, nothing heard yet) → running | failed; lost when its node died;
 * stopping (an orderly stop was sent) → stopped once the node confirmed the container gone.
 */
export type ReplicaState = 'pending' | 'running' | 'failed' | 'lost' | 'stopping' | 'stopped';

/** One assignment of a service slot to a node. At most one per slot wants to run. */
export interface Replica {
  service: string;
  slot: number;
  /** Monotonic per (service, slot): fences stale containers on a returning node. */
  generation: number;
  node: string;
  specVersion: number;
  desired: 'run' | 'stop';
  state: ReplicaState;
  reason?: string;
  /** Consecutive failures of this slot (drives backoff). */
  attempt: number;
  /** When the node last reported it running; a replica that ran long enough resets the backoff. */
  startedAt?: number;
  /** Earliest time a replacement of this slot may be placed (backoff). */
  notBefore: number;
  updatedAt: number;
}

export interface PlannerConfig {
  /** A node whose last heartbeat is older than this is dead. */
  heartbeatGraceMs: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  /** Slots updated at once during a rolling update. */
  maxParallelUpdates: number;
  /** A slot being stopped for a drain or an update waits this long for the node's confirmation. */
  stopWaitMs: number;
  /** A replica that ran this long before failing starts its backoff over. */
  stableAfterMs: number;
}

export const DEFAULT_PLANNER_CONFIG: PlannerConfig = {
  heartbeatGraceMs: 2_000,
  backoffBaseMs: 1_000,
  backoffCapMs: 30_000,
  maxParallelUpdates: 1,
  stopWaitMs: 15_000,
  stableAfterMs: 60_000,
};

/** Why nodes were refused for one placement: reason → how many nodes. */
export type RefusalCounts = Record<string, number>;

export interface Placement {
  service: string;
  slot: number;
  generation: number;
  node: string;
  specVersion: number;
  attempt: number;
  /** Explanation: why this node (score) and why not the others. */
  why: { score: number[]; refused: RefusalCounts; feasible: number };
}

export interface StopOrder {
  service: string;
  slot: number;
  generation: number;
  node: string;
  /** The new state to record: lost (node died), stopping (orderly), failed kept. */
  markAs: ReplicaState;
  reason: string;
}

export interface Unplaced {
  service: string;
  slot: number;
  reason: string;
  refused: RefusalCounts;
}

export interface Plan {
  place: Placement[];
  stop: StopOrder[];
  unplaced: Unplaced[];
  /** Slots waiting for their backoff to pass: service/slot → notBefore. */
  delayed: { service: string; slot: number; notBefore: number }[];
  /** Nodes judged dead at `now`. */
  deadNodes: string[];
  /** Deleted services with nothing left: the store can drop them. */
  purge: string[];
}

/** One replica's new state, as an observation of a node's report yields it. */
export interface StateUpdate {
  service: string;
  slot: number;
  generation: number;
  state: ReplicaState;
  reason?: string;
}

export interface Fence {
  service: string;
  slot: number;
  generation: number;
  node: string;
  reason: string;
}
