/**
 * WorkflowStore: definitions, executions (leased rows with fencing tokens), their history,
 * timers, scheduled tasks and an inbox of events waiting to be decided. One SQL
 * implementation serves embedded PGlite and PostgreSQL (src/adapters/store-sql/workflow-*.ts).
 *
 * Every transition of an execution is one `commit`: the new row, its history events, the
 * timers and tasks it starts or cancels, and the consumed event — all or nothing, and only
 * while the committer's lease (owner + fencing token) is still the current one.
 */
import type { Definition } from '../workflow/definition.js';
import type { Json } from '../workflow/json.js';
import type { Command, ExecutionState, HistoryEvent, WorkflowEvent } from '../workflow/machine-types.js';

/** PAUSED: no decisions are taken (events and due timers wait) and nobody holds the lease. */
export type ExecutionStatus = 'RUNNING' | 'PAUSED' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export const ENDED_STATUSES: readonly ExecutionStatus[] = ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];
export const isEnded = (s: ExecutionStatus): boolean => ENDED_STATUSES.includes(s);

export interface DefinitionRecord {
  name: string;
  version: number;
  definition: Definition;
  createdAt: number;
}

/**
 * Whose rows a read may see: the publisher (broker-validated user id) of the request, or null
 * when the agent's policy names no publishers. Reads given a scope never return another's rows.
 */
export interface TenantScope {
  starter: string | null;
}

export interface ExecutionRecord {
  id: string;
  /** The publisher who started it; absent when the policy named no publishers. */
  starter?: string;
  /** Absent on executions made before start keys were recorded. */
  startKey?: string;
  /** The definition's name, when started from a stored one. */
  definitionName?: string;
  definitionVersion?: number;
  status: ExecutionStatus;
  /** Null until the Started event is decided. */
  state: ExecutionState | null;
  /** Where to reply when the execution ends (a broker channel), if anywhere. */
  replyTo?: Json;
  /** With a replyTo: the end reply for the end it is in now went out (claimEndReplies / markEndReplySent). */
  endReplySent?: boolean;
  leaseOwner?: string;
  /** Epoch milliseconds (the database's clock). */
  leaseUntil?: number;
  fence: number;
  /** How many times the execution was redriven. */
  redriveCount: number;
  createdAt: number;
  updatedAt: number;
}

/** Proof that one agent holds an execution: every commit checks it. */
export interface ExecutionLease {
  executionId: string;
  owner: string;
  fence: number;
}

export interface NewExecution {
  id: string;
  starter?: string;
  /** A digest of what was started (definition, input): a repeat under the same id must match it. */
  startKey?: string;
  definitionName?: string;
  definitionVersion?: number;
  /** The Started event, put in the inbox so the first holder decides it. */
  started: WorkflowEvent & { type: 'Started' };
  replyTo?: Json;
}

export interface StoredHistoryEvent {
  seq: number;
  type: string;
  /** The state it concerns, when it concerns one. */
  state?: string;
  input?: Json;
  output?: Json;
  /** Epoch milliseconds. */
  at: number;
  event: HistoryEvent;
}

export interface TimerRow {
  executionId: string;
  token: string;
  /** Epoch milliseconds. */
  dueAt: number;
  /** The token's first letter (w wait, r retry, o task timeout, h heartbeat, e execution timeout). */
  kind: string;
}

/** scheduled → (dispatched: a callback task's message went out) → reported | cancelled. */
export type TaskStatus = 'scheduled' | 'dispatched' | 'reported' | 'cancelled';

export interface TaskRow {
  executionId: string;
  token: string;
  command: Command & { type: 'ScheduleTask' };
  status: TaskStatus;
  scheduledAt: number;
}

/** An event waiting for the execution's holder to decide it. */
export interface InboxEvent {
  id: number;
  executionId: string;
  event: WorkflowEvent | ControlEvent;
  /** Unique per execution when set: a second post with the same key is dropped. */
  dedupeKey?: string;
  postedAt: number;
}

/** Events that are about the execution, not the machine (decided by the executor itself). */
export type ControlEvent =
  | { type: 'Cancel'; cause?: string }
  | { type: 'Pause' }
  | { type: 'Resume' }
  | { type: 'Redrive' };

export const CONTROL_EVENT_TYPES: readonly ControlEvent['type'][] = ['Cancel', 'Pause', 'Resume', 'Redrive'];
export const isControlEvent = (e: WorkflowEvent | ControlEvent): e is ControlEvent => (CONTROL_EVENT_TYPES as readonly string[]).includes(e.type);

/** What a commit consumed: an inbox event, a fired timer, or nothing (e.g. a resume). */
export type Consumed = { inbox: number } | { timer: string } | null;

export interface Transition {
  state: ExecutionState;
  status: ExecutionStatus;
  history: HistoryEvent[];
  commands: Command[];
  consumed: Consumed;
}

export interface Committed {
  /**
   * The oldest inbox event still unconsumed, as the commit saw it: the holder decides it next
   * without another read. One posted while the commit ran may be missing; its poster wakes the
   * holder (or the holder's poll finds it).
   */
  next: InboxEvent | undefined;
}

export class LeaseLostError extends Error {
  constructor(readonly lease: ExecutionLease) {
    super(`execution ${lease.executionId}: ${lease.owner} no longer holds the lease (fence ${lease.fence})`);
    this.name = 'LeaseLostError';
  }
}

export interface WorkflowStore {
  readonly kind: 'pglite' | 'postgres';
  migrate(): Promise<void>;
  close(): Promise<void>;

  /** Definitions are owned: `owner` (a publisher; none when the policy names none) has its own names and versions. */
  putDefinition(name: string, definition: Definition, owner?: string): Promise<DefinitionRecord>;
  /** The newest version when `version` is left out. */
  getDefinition(name: string, version?: number, owner?: string): Promise<DefinitionRecord | undefined>;

  /** Idempotent on `id`: an existing execution is returned unchanged with created=false. */
  createExecution(e: NewExecution): Promise<{ created: boolean; record: ExecutionRecord }>;
  /** With a scope, another starter's execution is undefined (as a missing one). */
  getExecution(id: string, scope?: TenantScope): Promise<ExecutionRecord | undefined>;
  listExecutions(filter?: { status?: ExecutionStatus; limit?: number; scope?: TenantScope; before?: { createdAt: number; id: string } }): Promise<ExecutionRecord[]>;
  /** Events after afterSeq in order; at most limit of them when given. */
  history(id: string, afterSeq?: number, limit?: number): Promise<StoredHistoryEvent[]>;

  /**
   * Takes up to `limit` RUNNING executions (and PAUSED ones with a Cancel or Resume waiting in
   * their inbox) whose lease is free or expired; each claim bumps the
   * fence. With `reclaimOwn`, leases still held under the same owner name are taken back too
   * (an agent restarting under its stable name resumes at once instead of waiting for expiry).
   */
  claimExecutions(owner: string, leaseMs: number, limit: number, opts?: { reclaimOwn?: boolean; ids?: string[] }): Promise<ExecutionLease[]>;
  /** Extends the leases still held; returns those that were lost. */
  renewLeases(leases: ExecutionLease[], leaseMs: number): Promise<ExecutionLease[]>;
  releaseLease(lease: ExecutionLease): Promise<void>;

  /**
   * Appends an event for the holder; false when its dedupe key was already posted. A task
   * report (TaskSucceeded/TaskFailed) also marks its task reported, in the same transaction.
   */
  postEvent(executionId: string, event: WorkflowEvent | ControlEvent, dedupeKey?: string): Promise<boolean>;
  /** The oldest unconsumed inbox event of an execution. */
  nextEvent(executionId: string): Promise<InboxEvent | undefined>;
  /** The oldest unconsumed control event (Cancel, Pause, Resume, Redrive): what a paused execution still decides. */
  nextControlEvent(executionId: string): Promise<InboxEvent | undefined>;
  /**
   * Records a control request atomically: posts `event` only while the execution's status is
   * one of `from`. A Redrive also sets the row RUNNING (claimable), counts the redrive and
   * consumes what was left in the inbox when the execution ended. `record` is undefined for an
   * unknown id; `posted` is false (with the current record) when the status did not allow it.
   */
  requestControl(executionId: string, event: ControlEvent, from: readonly ExecutionStatus[], scope?: TenantScope): Promise<{ record?: ExecutionRecord; posted: boolean }>;
  /** Timers due at `now` of the executions this owner holds, soonest first. */
  dueTimers(owner: string, now: number, limit: number): Promise<TimerRow[]>;
  /** The soonest timer of the executions this owner holds (for the scheduler's sleep). */
  nextTimer(owner: string): Promise<TimerRow | undefined>;
  /** Tasks not yet reported or cancelled (scheduled or dispatched). */
  openTasks(executionId: string): Promise<TaskRow[]>;
  /** scheduled → dispatched (only from scheduled); false when the task was no longer scheduled. */
  markDispatched(executionId: string, token: string): Promise<boolean>;

  /** One transition, all or nothing; throws LeaseLostError when the lease is not current. */
  commit(lease: ExecutionLease, t: Transition): Promise<Committed>;

  /**
   * Ended executions with a reply path whose end reply is not yet marked sent and not claimed
   * by anyone now (or whose claim expired): each is claimed for `claimMs` and returned. `ids`
   * limits the claim to those executions (the agent that just ended one).
   */
  claimEndReplies(claimMs: number, limit: number, ids?: string[]): Promise<ExecutionRecord[]>;
  /** The end reply of this execution, as it ended under `fence`, went out. */
  markEndReplySent(executionId: string, fence: number): Promise<void>;
}
