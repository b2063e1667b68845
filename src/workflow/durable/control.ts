/**
 * Transitions the executor makes itself, outside the machine: cancelling an execution, and
 * mapping an ended execution to its store status.
 */
import type { ExecutionStatus, Transition } from '../../ports/workflow-store.js';
import { States } from '../errors.js';
import type { Command, ExecutionState, HistoryEvent } from '../machine-types.js';

export const ABORTED = 'bosun.Aborted';

export function statusOf(exec: ExecutionState): ExecutionStatus {
  if (exec.status === 'RUNNING' || exec.status === 'SUCCEEDED') return exec.status;
  if (exec.error === ABORTED) return 'ABORTED';
  // The machine words an execution timeout's cause this way (machine.ts); a task timeout that
  // was not caught fails the execution with the same error name but stays FAILED (as AWS).
  return exec.error === States.Timeout && (exec.cause ?? '').startsWith('the execution ran longer') ? 'TIMED_OUT' : 'FAILED';
}

/** Cancels a running execution: every outstanding task and timer goes, the row ends ABORTED. */
export function abortTransition(exec: ExecutionState, cause: string, now: number): Omit<Transition, 'consumed'> {
  const commands: Command[] = [];
  for (const [token] of Object.entries(exec.tokens)) {
    commands.push(token.startsWith('t') ? { type: 'CancelTask', token } : { type: 'CancelTimer', token });
  }
  commands.push({ type: 'CompleteExecution', status: 'FAILED', error: ABORTED, cause });
  const history: HistoryEvent[] = [{ type: 'ExecutionAborted', timestamp: new Date(now).toISOString(), cause }];
  const state: ExecutionState = {
    ...exec, status: 'FAILED', error: ABORTED, cause, frames: {}, tokens: {}, historyLength: exec.historyLength + 1,
  };
  delete state.executionTimer;
  return { state, status: 'ABORTED', history, commands };
}
