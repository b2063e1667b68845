/**
 * Parallel branches and Map iterations: child frames inside the same execution. A Map
 * starts at most MaxConcurrency items at a time and tolerates up to
 * ToleratedFailureCount/Percentage failed items; a failure beyond that (or any branch
 * failure of a Parallel) cancels the siblings and fails the state.
 */
import { States, StatesError } from './errors.js';
import { afterInputPath, checkSize, effectiveInput, jsonataEnv, stateOutput } from './io.js';
import { evaluateTemplate } from './jsonata.js';
import type { Json, JsonObject } from './json.js';
import type { Frame, Outcome, Waiting } from './machine-types.js';
import { requirePath, resolveTemplate } from './paths.js';
import { errorOf, enterState, handleError, leaveState, numberField } from './states.js';
import type { Step } from './step.js';
import { childScopes } from './walk.js';

type Children = Waiting & { kind: 'children' };

/**
 * MaxConcurrency 0 (or absent) means "no limit" in ASL, but Step Functions runs at most 40
 * iterations of an inline Map at once; bosun does the same, so one Map of thousands of items
 * cannot start thousands of frames (and tasks) in one step.
 */
export const INLINE_MAP_MAX_CONCURRENCY = 40;

/** How many items of a Map may run at once: its MaxConcurrency, or the inline cap when that is 0. */
export function mapConcurrencyLimit(maxConcurrency: number): number {
  return maxConcurrency > 0 ? Math.min(maxConcurrency, INLINE_MAP_MAX_CONCURRENCY) : INLINE_MAP_MAX_CONCURRENCY;
}

function newChild(step: Step, parent: Frame, index: number, scopePath: (string | number)[]): Frame {
  const id = step.nextId('f');
  const frame: Frame = { id, parent: { frame: parent.id, index }, scopePath, variables: { ...parent.variables }, state: '', input: null, enteredTime: step.nowIso, retryCounts: [], retryCount: 0 };
  step.exec.frames[id] = frame;
  return frame;
}

function statePath(step: Step, name: string): (string | number)[] {
  return step.states.get(name)!.path;
}

async function startChild(step: Step, parent: Frame, w: Children, index: number, input: Json): Promise<void> {
  const state = step.state(parent.state);
  const sub = childScopes(state)[state.Type === 'Parallel' ? index : 0]!;
  const child = newChild(step, parent, index, [...statePath(step, parent.state), ...sub.path]);
  w.children[index] = child.id;
  delete w.pendingInputs[String(index)];
  step.emit(state.Type === 'Parallel' ? 'BranchStarted' : 'MapIterationStarted', { frame: parent.id, state: parent.state, index, child: child.id });
  await enterState(step, child, sub.scope.StartAt, input);
}

/** Whether `w` is still what `parent` waits on (a sibling may have failed it meanwhile). */
function stillWaiting(step: Step, parent: Frame, w: Children): boolean {
  return step.exec.frames[parent.id] === parent && parent.waiting === w;
}

export async function startParallel(step: Step, frame: Frame, state: JsonObject): Promise<void> {
  const input = await effectiveInput(step, frame, state, step.queryLanguage(state) === 'JSONata' ? state.Arguments : state.Parameters);
  const n = childScopes(state).length;
  const w: Children = { kind: 'children', children: Array<null>(n).fill(null), pendingInputs: {}, results: Array<null>(n).fill(null), finished: 0, failures: 0, maxConcurrency: 0 };
  frame.waiting = w;
  for (let i = 0; i < n && stillWaiting(step, frame, w); i++) await startChild(step, frame, w, i, input);
}

async function mapItems(step: Step, frame: Frame, state: JsonObject): Promise<{ items: Json[]; inputs: Json[] }> {
  const jsonata = step.queryLanguage(state) === 'JSONata';
  let items: Json;
  let base: Json = frame.input;
  if (jsonata) items = state.Items !== undefined ? await evaluateTemplate(state.Items, jsonataEnv(step, frame), 'Items') : frame.input;
  else {
    base = afterInputPath(step, frame, state);
    items = requirePath(typeof state.ItemsPath === 'string' ? state.ItemsPath : '$', base, 'ItemsPath', step.context(frame));
  }
  if (!Array.isArray(items)) throw new StatesError(States.Runtime, `the items of Map state "${frame.state}" must be an array, got ${JSON.stringify(items)?.slice(0, 100)}`);
  const selector = state.ItemSelector ?? state.Parameters;
  const inputs: Json[] = [];
  for (const [index, value] of items.entries()) {
    const extra = { Map: { Item: { Index: index, Value: value } } };
    if (selector === undefined) inputs.push(value);
    else if (jsonata) inputs.push(await evaluateTemplate(selector, jsonataEnv(step, frame, {}, extra), 'ItemSelector'));
    else inputs.push(resolveTemplate(selector, base, step.context(frame, extra), { random: step.random }));
  }
  return { items, inputs };
}

export async function startMap(step: Step, frame: Frame, state: JsonObject): Promise<void> {
  const { inputs } = await mapItems(step, frame, state);
  const input = step.queryLanguage(state) === 'JSONPath' ? afterInputPath(step, frame, state) : frame.input;
  const maxConcurrency = (await numberField(step, frame, state, 'MaxConcurrency', input)) ?? 0;
  const toleratedCount = await numberField(step, frame, state, 'ToleratedFailureCount', input);
  const toleratedPercentage = await numberField(step, frame, state, 'ToleratedFailurePercentage', input);
  const w: Children = {
    kind: 'children', children: inputs.map(() => null), pendingInputs: Object.fromEntries(inputs.map((x, i) => [String(i), checkSize(step, x, `the input of item ${i} of Map state "${frame.state}"`)])),
    results: inputs.map(() => null), finished: 0, failures: 0, maxConcurrency,
    ...(toleratedCount !== undefined ? { toleratedCount } : {}), ...(toleratedPercentage !== undefined ? { toleratedPercentage } : {}),
  };
  frame.waiting = w;
  if (inputs.length === 0) return finishChildren(step, frame, w);
  await fillMap(step, frame, w);
}

async function fillMap(step: Step, frame: Frame, w: Children): Promise<void> {
  const running = (): number => w.children.filter((c) => c !== null).length;
  for (const key of Object.keys(w.pendingInputs).sort((a, b) => Number(a) - Number(b))) {
    if (!stillWaiting(step, frame, w)) return;
    if (running() >= mapConcurrencyLimit(w.maxConcurrency)) return;
    await startChild(step, frame, w, Number(key), w.pendingInputs[key]!);
  }
}

/** Cancels a frame and everything under it: its task, its timers, its children. */
export function cancelFrame(step: Step, id: string): void {
  const frame = step.exec.frames[id];
  if (!frame) return;
  const w = frame.waiting;
  const timers: (string | undefined)[] = [];
  if (w?.kind === 'task') {
    step.command({ type: 'CancelTask', token: w.token });
    delete step.exec.tokens[w.token];
    timers.push(w.timeoutTimer, w.heartbeatTimer);
  } else if (w?.kind === 'wait' || w?.kind === 'retry') timers.push(w.timer);
  else if (w?.kind === 'children') for (const c of w.children) if (c) cancelFrame(step, c);
  for (const t of timers) if (t) { step.command({ type: 'CancelTimer', token: t }); delete step.exec.tokens[t]; }
  delete step.exec.frames[id];
}

export async function childFinished(step: Step, parentId: string, index: number, outcome: Outcome): Promise<void> {
  const parent = step.exec.frames[parentId];
  const w = parent?.waiting;
  if (!parent || w?.kind !== 'children' || w.children[index] == null) return;
  w.children[index] = null;
  w.finished += 1;
  const state = step.state(parent.state);
  const map = state.Type === 'Map';
  step.emit(map ? 'MapIterationFinished' : 'BranchFinished', { frame: parent.id, state: parent.state, index, ok: outcome.ok, ...(outcome.ok ? {} : { error: outcome.error }) });
  if (outcome.ok) w.results[index] = outcome.output;
  else {
    w.failures += 1;
    w.results[index] = { Error: outcome.error, Cause: outcome.cause };
    const tolerant = map && (w.toleratedCount !== undefined || w.toleratedPercentage !== undefined);
    const total = w.results.length;
    const overCount = w.toleratedCount !== undefined && w.failures > w.toleratedCount;
    const overPercentage = w.toleratedPercentage !== undefined && (w.failures * 100) / total > w.toleratedPercentage;
    const over = !tolerant || overCount || overPercentage;
    if (over) {
      for (const c of w.children) if (c) cancelFrame(step, c);
      delete parent.waiting;
      const error = tolerant ? States.ExceedToleratedFailureThreshold : outcome.error;
      const cause = tolerant ? `${w.failures} of ${total} items failed, more than tolerated; last: ${outcome.error}: ${outcome.cause}` : outcome.cause;
      return handleError(step, parent, error, cause);
    }
  }
  if (w.finished === w.results.length) return finishChildren(step, parent, w);
  if (map) await fillMap(step, parent, w);
}

async function finishChildren(step: Step, frame: Frame, w: Children): Promise<void> {
  delete frame.waiting;
  const state = step.state(frame.state);
  try {
    await leaveState(step, frame, await stateOutput(step, frame, state, w.results));
  } catch (e) {
    await handleError(step, frame, ...errorOf(e));
  }
}
