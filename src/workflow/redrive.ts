/**
 * Redrive (Step Functions' RedriveExecution): an ended-unsuccessfully execution starts again
 * at the top-level state that failed, with that state's input and the variables it saw;
 * the states that succeeded before it are not run again. Pure: `now` is passed in, tokens
 * continue the execution's own counter.
 *
 * Rule for Parallel and Map: the top-level state is restarted as a whole (every branch or
 * item runs again). The branch and item frames are gone by the time the execution fails
 * (a failing branch cancels its siblings), so there is nothing exact to resume them from.
 */
import type { Decision, ExecutionState, Frame } from './machine-types.js';
import { enterState, startTimer } from './states.js';
import { Step } from './step.js';

export class RedriveRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedriveRefused';
  }
}

/** Where a redrive of `exec` would restart, or why it cannot. */
export function redriveTarget(exec: ExecutionState): Frame {
  if (exec.status !== 'FAILED') throw new RedriveRefused(`only a failed, timed out or aborted execution can be redriven (it is ${exec.status})`);
  const frame = exec.failedFrame;
  if (!frame || frame.state === '') throw new RedriveRefused('the execution failed before entering its first state (its input was refused): start a new one');
  return frame;
}

export async function redrive(exec: ExecutionState, now: number): Promise<Decision> {
  const failed = redriveTarget(exec);
  const { definition, ...rest } = exec;
  const next: ExecutionState = { ...structuredClone(rest), definition, status: 'RUNNING', frames: {}, tokens: {} };
  for (const gone of ['output', 'error', 'cause', 'failedFrame', 'executionTimer'] as const) delete next[gone];
  const step = new Step(next, now);
  step.emit('ExecutionRedriven', { state: failed.state, error: exec.error ?? null, cause: exec.cause ?? null });
  const root: Frame = { ...structuredClone(failed), id: 'root' };
  delete root.parent;
  next.frames.root = root;
  const timeout = definition.TimeoutSeconds;
  // The execution's timeout counts again from the redrive (the failed run's time is not carried over).
  if (typeof timeout === 'number') next.executionTimer = startTimer(step, root, 'e', timeout * 1000);
  await enterState(step, root, failed.state, failed.input);
  next.historyLength += step.history.length;
  return { execution: next, commands: step.commands, history: step.history };
}
