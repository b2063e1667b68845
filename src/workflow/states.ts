/**
 * Running one state of a frame: entering it, doing its work (or handing work to the runner
 * as commands), leaving it for the next, and its errors through Retry and Catch.
 */
import { evaluateRule, isTimestamp } from './choice.js';
import { parseResource } from './definition-checks.js';
import { isStatesError, States, StatesError } from './errors.js';
import { catchOutput, checkSize, effectiveInput, afterInputPath, jsonataEnv, stateOutput } from './io.js';
import { evaluateAssign, evaluateTemplate } from './jsonata.js';
import type { Json, JsonObject } from './json.js';
import type { Frame, Outcome } from './machine-types.js';
import { requirePath } from './paths.js';
import { decideRetry, findCatcher } from './retry.js';
import { childFinished, startMap, startParallel } from './scopes.js';
import type { Step } from './step.js';
import { encodeTaskToken } from './task-token.js';

export async function enterState(step: Step, frame: Frame, name: string, input: Json): Promise<void> {
  Object.assign(frame, { state: name, input, enteredTime: step.nowIso, retryCounts: [], retryCount: 0 });
  delete frame.waiting;
  step.emit('StateEntered', { frame: frame.id, state: name, input });
  await runState(step, frame);
}

export async function runState(step: Step, frame: Frame): Promise<void> {
  const state = step.state(frame.state);
  try {
    checkSize(step, frame.input, `the input of state "${frame.state}"`);
    switch (state.Type) {
      case 'Pass': return await runPass(step, frame, state);
      case 'Task': return await scheduleTask(step, frame, state);
      case 'Choice': return await runChoice(step, frame, state);
      case 'Wait': return await runWait(step, frame, state);
      case 'Succeed': return await endFrame(step, frame, { ok: true, output: await stateOutput(step, frame, state, undefined, await effectiveInput(step, frame, state, undefined)) });
      case 'Fail': return await runFail(step, frame, state);
      case 'Parallel': return await startParallel(step, frame, state);
      case 'Map': return await startMap(step, frame, state);
      default: throw new StatesError(States.Runtime, `unknown state type ${JSON.stringify(state.Type)}`);
    }
  } catch (e) {
    await handleError(step, frame, ...errorOf(e));
  }
}

export function errorOf(e: unknown): [string, string] {
  if (isStatesError(e)) return [e.error, e.causeText];
  if (e instanceof HistoryLimitReached) throw e;
  return [States.Runtime, e instanceof Error ? e.message : String(e)];
}

export class HistoryLimitReached extends Error {}

/** Leaves the current state with `output`: to `next` (Choice, Catch), its Next, or the frame's end. */
export async function leaveState(step: Step, frame: Frame, output: Json, next?: string): Promise<void> {
  const state = step.state(frame.state);
  step.emit('StateExited', { frame: frame.id, state: frame.state, output });
  const target = next ?? (typeof state.Next === 'string' ? state.Next : undefined);
  if (target === undefined) return endFrame(step, frame, { ok: true, output });
  await enterState(step, frame, target, output);
}

/** Finishes a frame: the execution's end for the top level, else the parent's child result. */
export async function endFrame(step: Step, frame: Frame, outcome: Outcome): Promise<void> {
  if (!outcome.ok) step.emit('StateFailed', { frame: frame.id, state: frame.state, error: outcome.error, cause: outcome.cause });
  delete step.exec.frames[frame.id];
  if (frame.parent) return childFinished(step, frame.parent.frame, frame.parent.index, outcome);
  const exec = step.exec;
  if (exec.executionTimer) { step.command({ type: 'CancelTimer', token: exec.executionTimer }); delete exec.tokens[exec.executionTimer]; delete exec.executionTimer; }
  if (outcome.ok) {
    Object.assign(exec, { status: 'SUCCEEDED', output: outcome.output });
    step.emit('ExecutionSucceeded', { output: outcome.output });
    step.command({ type: 'CompleteExecution', status: 'SUCCEEDED', output: outcome.output });
  } else {
    Object.assign(exec, { status: 'FAILED', error: outcome.error, cause: outcome.cause, failedFrame: keptForRedrive(frame) });
    step.emit('ExecutionFailed', { error: outcome.error, cause: outcome.cause });
    step.command({ type: 'CompleteExecution', status: 'FAILED', error: outcome.error, cause: outcome.cause });
  }
}

/** The failed top-level frame without what it was waiting on or its retries (a redrive starts the state afresh). */
export function keptForRedrive(frame: Frame): Frame {
  const kept: Frame = { ...frame, retryCounts: [], retryCount: 0 };
  delete kept.waiting;
  return kept;
}

/** An error in the frame's current state: its Retriers, then its Catchers, else the frame fails. */
export async function handleError(step: Step, frame: Frame, error: string, cause: string): Promise<void> {
  const state = step.state(frame.state);
  const retriable = state.Type === 'Task' || state.Type === 'Parallel' || state.Type === 'Map';
  if (retriable) {
    const retry = decideRetry(state.Retry, frame.retryCounts, error, step.random);
    if (retry) {
      frame.retryCounts[retry.retrier] = (frame.retryCounts[retry.retrier] ?? 0) + 1;
      frame.retryCount += 1;
      const timer = step.nextId('r');
      const at = new Date(step.now + retry.delayMs).toISOString();
      frame.waiting = { kind: 'retry', timer };
      step.exec.tokens[timer] = frame.id;
      step.emit('RetryScheduled', { frame: frame.id, state: frame.state, error, cause, retrier: retry.retrier, attempt: frame.retryCount + 1, delayMs: retry.delayMs, at });
      step.command({ type: 'StartTimer', token: timer, at });
      return;
    }
    const c = findCatcher(state.Catch, error);
    if (c >= 0) {
      const catcher = (state.Catch as JsonObject[])[c]!;
      step.emit('CatchTaken', { frame: frame.id, state: frame.state, error, cause, catcher: c, next: catcher.Next as string });
      let output: Json;
      try {
        output = await catchOutput(step, frame, state, catcher, { Error: error, Cause: cause });
      } catch (e) {
        return endFrame(step, frame, { ok: false, ...pair(errorOf(e)) });
      }
      return leaveState(step, frame, output, catcher.Next as string);
    }
  }
  await endFrame(step, frame, { ok: false, error, cause });
}

const pair = ([error, cause]: [string, string]): { error: string; cause: string } => ({ error, cause });

async function runPass(step: Step, frame: Frame, state: JsonObject): Promise<void> {
  if (step.queryLanguage(state) === 'JSONata') return leaveState(step, frame, await stateOutput(step, frame, state, undefined));
  const effective = await effectiveInput(step, frame, state, state.Parameters);
  await leaveState(step, frame, await stateOutput(step, frame, state, 'Result' in state ? state.Result! : effective));
}

/** A number field given directly, by `…Path` (JSONPath) or as an expression (JSONata). */
export async function numberField(step: Step, frame: Frame, state: JsonObject, field: string, input: Json): Promise<number | undefined> {
  let v: Json | undefined = state[field];
  if (step.queryLanguage(state) === 'JSONata') {
    if (typeof v === 'string') v = await evaluateTemplate(v, jsonataEnv(step, frame), field);
  } else if (typeof state[`${field}Path`] === 'string') {
    v = requirePath(state[`${field}Path`] as string, input, `${field}Path`, step.context(frame));
  }
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new StatesError(States.Runtime, `${field} of state "${frame.state}" must be a non-negative integer, got ${JSON.stringify(v)}`);
  return v;
}

async function scheduleTask(step: Step, frame: Frame, state: JsonObject): Promise<void> {
  const resource = String(state.Resource);
  const token = step.nextId('t');
  const extra = { Task: { Token: publicTaskToken(step, token) } };
  const parameters = checkSize(step, await effectiveInput(step, frame, state, step.queryLanguage(state) === 'JSONata' ? state.Arguments : state.Parameters, extra), `the parameters of state "${frame.state}"`);
  const input = afterInputPath(step, frame, state);
  const timeoutSeconds = await numberField(step, frame, state, 'TimeoutSeconds', input);
  const heartbeatSeconds = await numberField(step, frame, state, 'HeartbeatSeconds', input);
  const parsed = parseResource(resource);
  step.command({
    type: 'ScheduleTask', token, resource, parameters, input, attempt: frame.retryCount + 1, state: frame.state, waitForTaskToken: parsed?.waitForTaskToken ?? false,
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}), ...(heartbeatSeconds !== undefined ? { heartbeatSeconds } : {}),
  });
  step.exec.tokens[token] = frame.id;
  const waiting: Frame['waiting'] & { kind: 'task' } = { kind: 'task', token };
  if (timeoutSeconds !== undefined) waiting.timeoutTimer = startTimer(step, frame, 'o', timeoutSeconds * 1000);
  if (heartbeatSeconds !== undefined) Object.assign(waiting, { heartbeatSeconds, heartbeatTimer: startTimer(step, frame, 'h', heartbeatSeconds * 1000) });
  frame.waiting = waiting;
  step.emit('TaskScheduled', { frame: frame.id, state: frame.state, token, resource, parameters, attempt: frame.retryCount + 1 });
}

/** `$$.Task.Token`: signed when the execution has a token key (durable runs), else the machine's own token. */
function publicTaskToken(step: Step, token: string): string {
  return step.exec.taskTokenKey === undefined ? token : encodeTaskToken(step.exec.taskTokenKey, step.exec.id, token);
}

export function startTimer(step: Step, frame: Frame, prefix: string, ms: number): string {
  const token = step.nextId(prefix);
  step.exec.tokens[token] = frame.id;
  step.command({ type: 'StartTimer', token, at: new Date(step.now + ms).toISOString() });
  return token;
}

async function runChoice(step: Step, frame: Frame, state: JsonObject): Promise<void> {
  const rules = Array.isArray(state.Choices) ? (state.Choices as JsonObject[]) : [];
  if (step.queryLanguage(state) === 'JSONata') {
    for (const [i, rule] of rules.entries()) {
      const env = jsonataEnv(step, frame);
      const ok = await evaluateTemplate(rule.Condition ?? null, env, `Choices[${i}].Condition`);
      if (typeof ok !== 'boolean') throw new StatesError(States.QueryEvaluationError, `Choices[${i}].Condition of state "${frame.state}" must be a boolean, got ${JSON.stringify(ok)}`);
      if (!ok) continue;
      const output = rule.Output !== undefined ? await evaluateTemplate(rule.Output, env, `Choices[${i}].Output`) : await stateOutput(step, frame, state, undefined);
      if (rule.Output !== undefined || rule.Assign !== undefined) frame.variables = await evaluateAssign(rule.Assign, env);
      return leaveState(step, frame, output, rule.Next as string);
    }
  } else {
    const input = afterInputPath(step, frame, state);
    const ctx = step.context(frame);
    const hit = rules.find((r) => evaluateRule(r, input, ctx));
    if (hit) return leaveState(step, frame, await stateOutput(step, frame, state, undefined, input), hit.Next as string);
  }
  if (typeof state.Default !== 'string') throw new StatesError(States.NoChoiceMatched, `no Choice Rule of state "${frame.state}" matched and it has no Default`);
  await leaveState(step, frame, await stateOutput(step, frame, state, undefined, step.queryLanguage(state) === 'JSONPath' ? afterInputPath(step, frame, state) : undefined), state.Default);
}

async function runWait(step: Step, frame: Frame, state: JsonObject): Promise<void> {
  const input = step.queryLanguage(state) === 'JSONPath' ? afterInputPath(step, frame, state) : frame.input;
  const seconds = await numberField(step, frame, state, 'Seconds', input);
  let at = seconds !== undefined ? step.now + seconds * 1000 : undefined;
  if (at === undefined) {
    let ts: Json | undefined = state.Timestamp;
    if (step.queryLanguage(state) === 'JSONata' && typeof ts === 'string') ts = await evaluateTemplate(ts, jsonataEnv(step, frame), 'Timestamp');
    else if (typeof state.TimestampPath === 'string') ts = requirePath(state.TimestampPath, input, 'TimestampPath', step.context(frame));
    if (!isTimestamp(ts)) throw new StatesError(States.Runtime, `the Timestamp of state "${frame.state}" must be an RFC 3339 timestamp, got ${JSON.stringify(ts)}`);
    at = Date.parse(ts);
  }
  if (at <= step.now) return leaveState(step, frame, await stateOutput(step, frame, state, undefined, input));
  frame.waiting = { kind: 'wait', timer: startTimer(step, frame, 'w', at - step.now) };
  step.emit('WaitStarted', { frame: frame.id, state: frame.state, until: new Date(at).toISOString() });
}

/** After a Wait's timer: its output, then the next state. */
export async function finishWait(step: Step, frame: Frame): Promise<void> {
  const state = step.state(frame.state);
  try {
    const input = step.queryLanguage(state) === 'JSONPath' ? afterInputPath(step, frame, state) : undefined;
    await leaveState(step, frame, await stateOutput(step, frame, state, undefined, input));
  } catch (e) {
    await handleError(step, frame, ...errorOf(e));
  }
}

async function runFail(step: Step, frame: Frame, state: JsonObject): Promise<void> {
  const get = async (field: 'Error' | 'Cause'): Promise<string> => {
    let v: Json | undefined = state[field];
    if (step.queryLanguage(state) === 'JSONata' && typeof v === 'string') v = await evaluateTemplate(v, jsonataEnv(step, frame), field);
    else if (typeof state[`${field}Path`] === 'string') v = requirePath(state[`${field}Path`] as string, frame.input, `${field}Path`, step.context(frame));
    return v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  };
  await endFrame(step, frame, { ok: false, error: await get('Error'), cause: await get('Cause') });
}

