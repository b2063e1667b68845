/**
 * An in-memory driver of the machine, for tests: feeds `decide` its events in order, runs
 * tasks with a map of fake executors and moves a virtual clock to the next timer when
 * nothing else is left. Between steps the execution is round-tripped through JSON, as a
 * stored row would be.
 */
import type { Definition } from './definition.js';
import type { Json } from './json.js';
import { decide, type Command, type ExecutionState, type HistoryEvent, type Limits, type WorkflowEvent } from './machine.js';

export class TaskFailure extends Error {
  constructor(readonly error: string, readonly errorCause = '') { super(`${error}: ${errorCause}`); }
}
/** Returned by a fake executor: the task never reports (to exercise timeouts). */
export const HANG = Symbol('hang');
/** Returned by a fake executor: report `result` (or fail) after `ms` of virtual time. */
export interface Delayed { delayMs: number; result: Json | TaskFailure }
export const delayed = (delayMs: number, result: Json | TaskFailure): Delayed => ({ delayMs, result });

export interface TaskCall { token: string; resource: string; parameters: Json; attempt: number; state: string; at: number }
export type FakeTask = (parameters: Json, call: TaskCall) => Json | Delayed | typeof HANG | Promise<Json | Delayed | typeof HANG>;

export interface RunOptions {
  tasks?: Record<string, FakeTask>;
  startTime?: number;
  seed?: number;
  limits?: Partial<Limits>;
  /** Most decisions before giving up (a guard against a runaway test). */
  maxSteps?: number;
}

export interface RunResult {
  execution: ExecutionState;
  history: HistoryEvent[];
  commands: Command[];
  events: { event: WorkflowEvent; at: number }[];
  calls: TaskCall[];
  /** Most tasks outstanding at one time. */
  maxConcurrentTasks: number;
  endTime: number;
}

const isDelayed = (v: unknown): v is Delayed => typeof v === 'object' && v !== null && 'delayMs' in v && 'result' in v;

export async function runWorkflow(definition: Definition, input: Json, opts: RunOptions = {}): Promise<RunResult> {
  let now = opts.startTime ?? Date.parse('2026-01-01T00:00:00Z');
  const queue: { event: WorkflowEvent; at: number }[] = [];
  const timers = new Map<string, number>();
  const running = new Set<string>();
  const out: RunResult = { execution: undefined as never, history: [], commands: [], events: [], calls: [], maxConcurrentTasks: 0, endTime: now };
  const push = (event: WorkflowEvent, at: number): void => { queue.push({ event, at }); queue.sort((a, b) => a.at - b.at); };
  push({ type: 'Started', executionId: 'exec-1', definition, input, seed: opts.seed ?? 42, ...(opts.limits ? { limits: opts.limits } : {}) }, now);
  let exec: ExecutionState | undefined;
  for (let steps = 0; steps < (opts.maxSteps ?? 100_000); steps++) {
    const nextTimer = [...timers.entries()].sort((a, b) => a[1] - b[1])[0];
    const next = queue[0];
    let item: { event: WorkflowEvent; at: number };
    if (next && (!nextTimer || next.at <= nextTimer[1])) item = queue.shift()!;
    else if (nextTimer) { timers.delete(nextTimer[0]); item = { event: { type: 'TimerFired', token: nextTimer[0] }, at: nextTimer[1] }; }
    else break;
    now = Math.max(now, item.at);
    const ev = item.event;
    if ((ev.type === 'TaskSucceeded' || ev.type === 'TaskFailed') && !running.delete(ev.token)) continue; // cancelled meanwhile
    out.events.push({ event: ev, at: now });
    const d = await decide(exec, ev, now);
    exec = JSON.parse(JSON.stringify(d.execution)) as ExecutionState;
    out.history.push(...d.history);
    out.commands.push(...d.commands);
    for (const c of d.commands) {
      if (c.type === 'StartTimer') timers.set(c.token, Date.parse(c.at));
      else if (c.type === 'CancelTimer') timers.delete(c.token);
      else if (c.type === 'CancelTask') running.delete(c.token);
      else if (c.type === 'ScheduleTask') {
        const call: TaskCall = { token: c.token, resource: c.resource, parameters: c.parameters, attempt: c.attempt, state: c.state, at: now };
        out.calls.push(call);
        running.add(c.token);
        out.maxConcurrentTasks = Math.max(out.maxConcurrentTasks, running.size);
        const fn = opts.tasks?.[c.resource];
        let r: Json | Delayed | typeof HANG | TaskFailure;
        try {
          r = fn ? await fn(c.parameters, call) : new TaskFailure('bosun.NoFakeTask', `no fake executor for ${c.resource}`);
        } catch (e) {
          r = e instanceof TaskFailure ? e : new TaskFailure('States.TaskFailed', (e as Error).message);
        }
        if (r === HANG) continue;
        const { delayMs, result } = isDelayed(r) ? r : { delayMs: 0, result: r };
        push(result instanceof TaskFailure ? { type: 'TaskFailed', token: c.token, error: result.error, cause: result.errorCause } : { type: 'TaskSucceeded', token: c.token, output: result }, now + delayMs);
      }
    }
    if (exec.status !== 'RUNNING') break;
  }
  out.execution = exec!;
  out.endTime = now;
  return out;
}

/** Replays recorded events through `decide` from nothing: the state must come out the same. */
export async function replay(events: { event: WorkflowEvent; at: number }[]): Promise<ExecutionState> {
  let exec: ExecutionState | undefined;
  for (const { event, at } of events) exec = (await decide(exec, event, at)).execution;
  return exec!;
}
