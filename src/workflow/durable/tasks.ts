/**
 * Task runners: what carries out a ScheduleTask command for one resource (`bosun:run`,
 * `bosun:publish`…). A runner must be safe to call again for the same token after a crash
 * (adopt what the first call started, never start it twice): the executor re-runs every
 * task that was scheduled and never reported when it resumes an execution.
 */
import type { Json } from '../json.js';
import type { Command } from '../machine-types.js';

export interface TaskContext {
  executionId: string;
  command: Command & { type: 'ScheduleTask' };
  /**
   * Who started the execution (the broker-validated user id of the workflow.start), when the
   * agent's policy names publishers: runners act under policyFor(base, publisher) and its quotas.
   */
  publisher?: string;
  /** Aborted when the task is cancelled (timeout, failed sibling, execution cancelled). */
  signal: AbortSignal;
  /** The task is still wanted but this agent lost the execution: stop waiting, leave what runs. */
  detached: AbortSignal;
}

/** `afterReport` runs once the outcome is safely in the store (e.g. remove the task's container). */
export type TaskOutcome =
  | { ok: true; output: Json; afterReport?: () => Promise<void> }
  | { ok: false; error: string; cause: string; afterReport?: () => Promise<void> }
  /** A callback task: its message went out; a report carrying the token will end it. */
  | { dispatched: true };

export interface TaskRunner {
  run(ctx: TaskContext): Promise<TaskOutcome>;
  /**
   * Removes what the runner left behind for tasks of the execution whose token is not in
   * `open` (reported or cancelled); returns how many it removed. Called when an executor adopts
   * an execution and when one ends (open is then empty).
   */
  sweep?(executionId: string, open: ReadonlySet<string>): Promise<number>;
}

/** The part of a resource that picks its runner: `bosun:run`, `bosun:publish.waitForTaskToken` → `bosun:publish`. */
export function resourceBase(resource: string): string {
  return resource.replace(/\.(waitForTaskToken|sync)$/, '');
}

export type Finished = Exclude<TaskOutcome, { dispatched: true }>;
export const failure = (error: string, cause: string): Finished => ({ ok: false, error, cause });

/** The inbox dedupe key of a task's report: whoever reports first (the runner or a task-token channel) wins. */
export const reportKey = (token: string): string => `task:${token}`;
