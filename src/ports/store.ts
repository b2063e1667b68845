/**
 * ClusterStore: desired state (services), node liveness and assignment history.
 * Docker stays the source of truth for containers; this holds intent and what nodes reported.
 * One SQL implementation serves embedded PGlite and PostgreSQL (src/adapters/store-sql/).
 */
import type { StateUpdate } from '../domain/cluster.js';
import type { Constraint, ContainerTemplate, NodeStatus, NodeView, Plan, Replica, Resources, ServiceSpec } from '../domain/cluster.js';

export interface ServiceInput {
  name: string;
  replicas: number;
  container: ContainerTemplate;
  constraints?: Constraint[];
}

/** Progress as the leading controller last saw it. */
export interface ServiceStatus {
  running?: number;
  pending?: number;
  /** Slots that could not be placed, and why. */
  unplaced?: { slot: number; reason: string }[];
  /** Slots waiting for their restart backoff. */
  delayed?: { slot: number; notBefore: number; lastReason?: string }[];
  /** Slots still on an older spec version (rolling update in progress). */
  outdated?: number;
  at?: number;
}

export interface ServiceRecord extends ServiceSpec {
  createdAt: number;
  updatedAt: number;
  status: ServiceStatus;
}

export interface NodeRecord extends NodeView {
  /** Seed-compatible view: when the node first registered. */
  registeredAt: number;
}

export interface HeartbeatInput {
  name: string;
  labels: Record<string, string>;
  free: Resources;
  at: number;
}

export interface Lease {
  leader: boolean;
  /** Fencing token: grows each time the lease changes hands. */
  epoch: number;
}

export interface ClusterStore {
  readonly kind: 'pglite' | 'postgres';
  migrate(): Promise<void>;
  close(): Promise<void>;

  /** Creates, or updates (bumping `version` when the container template changes). */
  putService(input: ServiceInput, now: number): Promise<{ record: ServiceRecord; created: boolean }>;
  getService(name: string): Promise<ServiceRecord | undefined>;
  listServices(): Promise<ServiceRecord[]>;
  /** Marks deleted; the controller stops its replicas, then purges it. False if unknown. */
  deleteService(name: string, now: number): Promise<boolean>;
  setServiceStatus(name: string, status: ServiceStatus): Promise<void>;

  recordHeartbeat(hb: HeartbeatInput): Promise<void>;
  listNodes(): Promise<NodeRecord[]>;
  /** False if the node is unknown. */
  setNodeStatus(name: string, status: NodeStatus): Promise<boolean>;

  listReplicas(service?: string): Promise<Replica[]>;
  /** Assignments on `node` or of one of `services`: what a node's report can refer to. */
  listReplicasForReport(node: string, services: readonly string[]): Promise<Replica[]>;
  /** Drops finished history older than `before`, keeping each slot's newest row (generations stay monotonic). */
  pruneHistory(before: number): Promise<number>;
  /** Applies one controller plan atomically, refused (store_error, "not leader") unless `lease` still holds. */
  applyPlan(plan: Plan, now: number, lease: { holder: string; epoch: number }): Promise<void>;
  applyUpdates(updates: readonly StateUpdate[], now: number): Promise<void>;

  /** Takes or renews the named lease for `ttlMs` (database time, so server clocks may differ). */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<Lease>;
  releaseLease(name: string, holder: string): Promise<void>;
}
