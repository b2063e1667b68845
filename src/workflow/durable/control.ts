/**
 * Transitions the executor makes itself, outside the machine: cancelling, pausing and resuming
 * an execution, failing one whose decision threw, and mapping an execution to its store status.
 */
import type { ExecutionStatus, Transition } from '../../ports/workflow-store.js';
import { States } from '../errors.js';
import { DEFAULT_LIMITS, type Command, type ExecutionState, type HistoryEvent, type WorkflowEvent } from '../machine-types.js';
import { keptForRedrive } from '../states.js';

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
    ...(exec.frames.root ? { failedFrame: keptForRedrive(exec.frames.root) } : {}),
  };
  delete state.executionTimer;
  return { state, status: 'ABORTED', history, commands };
}

/** One history event recorded outside the machine, the state otherwise unchanged. */
function marked(exec: ExecutionState, status: ExecutionStatus, type: string, now: number): Omit<Transition, 'consumed'> {
  return { state: { ...exec, historyLength: exec.historyLength + 1 }, status, history: [{ type, timestamp: new Date(now).toISOString() }], commands: [] };
}

/** Outstanding tasks and timers stay; the row goes PAUSED (the holder then lets the lease go). */
export const pauseTransition = (exec: ExecutionState, now: number): Omit<Transition, 'consumed'> => marked(exec, 'PAUSED', 'ExecutionPaused', now);

export const resumeTransition = (exec: ExecutionState, now: number): Omit<Transition, 'consumed'> => marked(exec, statusOf(exec), 'ExecutionResumed', now);

/**
 * `decide` threw (a defect or a definition it cannot run): rather than drop the execution for
 * another agent to retry forever, it fails with States.Runtime; outstanding work is cancelled.
 * Without a state yet (the Started event itself threw), the state is built from that event.
 */
export function runtimeFailure(exec: ExecutionState | null, event: WorkflowEvent, cause: string, now: number): Omit<Transition, 'consumed'> {
  const base: ExecutionState = exec ?? (event.type === 'Started'
    ? {
      id: event.executionId, name: event.name ?? event.executionId, definition: event.definition, status: 'RUNNING', input: event.input,
      startTime: new Date(now).toISOString(), rng: (event.seed ?? 1) >>> 0, seq: 0, historyLength: 0, limits: { ...DEFAULT_LIMITS, ...(event.limits ?? {}) }, frames: {}, tokens: {},
    }
    : failNoState(event));
  const commands: Command[] = Object.keys(base.tokens).map((token) => (token.startsWith('t') ? { type: 'CancelTask', token } : { type: 'CancelTimer', token }));
  commands.push({ type: 'CompleteExecution', status: 'FAILED', error: States.Runtime, cause });
  const state: ExecutionState = {
    ...base, status: 'FAILED', error: States.Runtime, cause, frames: {}, tokens: {}, historyLength: base.historyLength + 1,
    ...(base.frames.root ? { failedFrame: keptForRedrive(base.frames.root) } : {}),
  };
  delete state.executionTimer;
  return { state, status: 'FAILED', history: [{ type: 'ExecutionFailed', timestamp: new Date(now).toISOString(), error: States.Runtime, cause }], commands };
}

function failNoState(event: WorkflowEvent): never {
  throw new Error(`an execution without a state got ${event.type} before Started`);
}
