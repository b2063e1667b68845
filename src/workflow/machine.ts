/**
 * The workflow machine: `decide(execution, event, now)` → the next execution, the commands
 * the runner must carry out durably, and the history events to record — pure, with time
 * passed in and randomness from the execution's own seeded generator. Events for tokens no
 * longer outstanding (a cancelled task, a duplicate report) change nothing.
 */
import { Bosun, States } from './errors.js';
import { checkSize, stateOutput } from './io.js';
import { type Json } from './json.js';
import { DEFAULT_LIMITS, type Command, type Decision, type ExecutionState, type Frame, type WorkflowEvent } from './machine-types.js';
import { cancelFrame } from './scopes.js';
import { endFrame, enterState, errorOf, finishWait, handleError, HistoryLimitReached, keptForRedrive, leaveState, runState, startTimer } from './states.js';
import { Step } from './step.js';

export * from './machine-types.js';

/** A private copy of the execution to work on (the definition is shared: it never changes). */
function working(exec: ExecutionState): ExecutionState {
  const { definition, ...rest } = exec;
  return { ...structuredClone(rest), definition };
}

function start(e: WorkflowEvent & { type: 'Started' }, now: number): ExecutionState {
  return {
    id: e.executionId, name: e.name ?? e.executionId, definition: e.definition, status: 'RUNNING', input: e.input,
    startTime: new Date(now).toISOString(), rng: (e.seed ?? 1) >>> 0, seq: 0, historyLength: 0,
    limits: { ...DEFAULT_LIMITS, ...(e.limits ?? {}) }, frames: {}, tokens: {},
    ...(e.taskTokenKey !== undefined ? { taskTokenKey: e.taskTokenKey } : {}),
  };
}

function unchanged(exec: ExecutionState): Decision {
  return { execution: exec, commands: [], history: [] };
}

async function apply(step: Step, event: WorkflowEvent): Promise<void> {
  const exec = step.exec;
  if (event.type === 'Started') {
    step.emit('ExecutionStarted', { input: event.input });
    const root: Frame = { id: 'root', scopePath: [], variables: {}, state: '', input: event.input, enteredTime: step.nowIso, retryCounts: [], retryCount: 0 };
    exec.frames.root = root;
    try {
      checkSize(step, event.input, 'the execution input');
    } catch (err) {
      return endFrame(step, root, { ok: false, ...pairOf(errorOf(err)) });
    }
    const timeout = exec.definition.TimeoutSeconds;
    if (typeof timeout === 'number') { exec.executionTimer = startTimer(step, root, 'e', timeout * 1000); }
    return enterState(step, root, exec.definition.StartAt, event.input);
  }
  const frame = exec.frames[exec.tokens[event.token] ?? ''];
  if (event.token === exec.executionTimer && event.type === 'TimerFired') {
    delete exec.tokens[event.token];
    delete exec.executionTimer;
    const root = exec.frames.root!;
    cancelFrame(step, 'root');
    step.emit('ExecutionTimedOut', {});
    return endFrame(step, root, { ok: false, error: States.Timeout, cause: `the execution ran longer than its TimeoutSeconds (${String(exec.definition.TimeoutSeconds)})` });
  }
  const w = frame?.waiting;
  if (!frame || !w) return;
  if (w.kind === 'task') {
    if (event.type === 'TaskHeartbeat' && event.token === w.token) {
      step.emit('TaskHeartbeat', { frame: frame.id, state: frame.state, token: w.token });
      if (w.heartbeatTimer && w.heartbeatSeconds !== undefined) {
        step.command({ type: 'CancelTimer', token: w.heartbeatTimer });
        delete exec.tokens[w.heartbeatTimer];
        w.heartbeatTimer = startTimer(step, frame, 'h', w.heartbeatSeconds * 1000);
      }
      return;
    }
    const timedOut = event.type === 'TimerFired' && (event.token === w.timeoutTimer || event.token === w.heartbeatTimer);
    const reported = (event.type === 'TaskSucceeded' || event.type === 'TaskFailed') && event.token === w.token;
    if (!timedOut && !reported) return;
    for (const t of [w.timeoutTimer, w.heartbeatTimer]) if (t && t !== event.token) step.command({ type: 'CancelTimer', token: t });
    for (const t of [w.token, w.timeoutTimer, w.heartbeatTimer]) if (t) delete exec.tokens[t];
    delete frame.waiting;
    if (timedOut) {
      step.command({ type: 'CancelTask', token: w.token });
      const cause = event.token === w.heartbeatTimer ? 'the task sent no heartbeat within HeartbeatSeconds' : 'the task ran longer than its TimeoutSeconds';
      step.emit('TaskTimedOut', { frame: frame.id, state: frame.state, token: w.token, cause });
      return handleError(step, frame, event.token === w.heartbeatTimer ? States.HeartbeatTimeout : States.Timeout, cause);
    }
    if (event.type === 'TaskFailed') {
      step.emit('TaskFailed', { frame: frame.id, state: frame.state, token: w.token, error: event.error, cause: event.cause ?? '' });
      return handleError(step, frame, event.error, event.cause ?? '');
    }
    if (event.type === 'TaskSucceeded') {
      step.emit('TaskSucceeded', { frame: frame.id, state: frame.state, token: w.token, output: event.output });
      return finishTask(step, frame, event.output);
    }
    return;
  }
  if (event.type !== 'TimerFired' || !('timer' in w) || w.timer !== event.token) return;
  delete exec.tokens[event.token];
  delete frame.waiting;
  step.emit('TimerFired', { frame: frame.id, state: frame.state, token: event.token });
  if (w.kind === 'wait') return finishWait(step, frame);
  return runState(step, frame);
}

async function finishTask(step: Step, frame: Frame, result: Json): Promise<void> {
  try {
    checkSize(step, result, `the result of state "${frame.state}"`);
    const output = await stateOutput(step, frame, step.state(frame.state), result);
    await leaveState(step, frame, output);
  } catch (e) {
    await handleError(step, frame, ...errorOf(e));
  }
}

const pairOf = ([error, cause]: [string, string]): { error: string; cause: string } => ({ error, cause });

/** Over the history limit: the execution fails as it stood before this event; outstanding work is cancelled. */
function historyExceeded(before: ExecutionState, now: number): Decision {
  const exec = working(before);
  const commands: Command[] = [];
  for (const token of Object.keys(exec.tokens)) commands.push(/^t/.test(token) ? { type: 'CancelTask', token } : { type: 'CancelTimer', token });
  const cause = `the execution reached its limit of ${exec.limits.historyEvents} history events`;
  const root = exec.frames.root;
  Object.assign(exec, { status: 'FAILED', error: Bosun.HistoryLimitExceeded, cause, frames: {}, tokens: {}, ...(root ? { failedFrame: keptForRedrive(root) } : {}) });
  delete exec.executionTimer;
  commands.push({ type: 'CompleteExecution', status: 'FAILED', error: Bosun.HistoryLimitExceeded, cause });
  exec.historyLength += 1;
  return { execution: exec, commands, history: [{ type: 'ExecutionFailed', timestamp: new Date(now).toISOString(), error: Bosun.HistoryLimitExceeded, cause }] };
}

export async function decide(execution: ExecutionState | undefined, event: WorkflowEvent, now: number): Promise<Decision> {
  if (!execution) {
    if (event.type !== 'Started') throw new Error(`the first event of an execution must be Started, got ${event.type}`);
    execution = start(event, now);
  } else if (execution.status !== 'RUNNING' || event.type === 'Started') return unchanged(execution);
  const step = new Step(working(execution), now);
  const limit = step.exec.limits.historyEvents;
  const emit = step.emit.bind(step);
  step.emit = (type, fields) => {
    if (step.exec.historyLength + step.history.length + 1 >= limit) throw new HistoryLimitReached();
    emit(type, fields);
  };
  try {
    await apply(step, event);
  } catch (e) {
    if (e instanceof HistoryLimitReached) return historyExceeded(event.type === 'Started' ? start(event, now) : execution, now);
    throw e;
  }
  step.exec.historyLength += step.history.length;
  return { execution: step.exec, commands: step.commands, history: step.history };
}
