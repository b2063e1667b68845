/** Redrive, pure: where it restarts, what it keeps, what it refuses; and the executor's own control transitions. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Definition } from '../../../src/workflow/definition.js';
import { abortTransition, pauseTransition, resumeTransition, runtimeFailure, statusOf } from '../../../src/workflow/durable/control.js';
import { decide, type Command, type Decision, type ExecutionState, type WorkflowEvent } from '../../../src/workflow/machine.js';
import { redrive, RedriveRefused } from '../../../src/workflow/redrive.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const def = (d: object) => d as Definition;
const started = (definition: Definition, input: unknown = {}): WorkflowEvent => ({ type: 'Started', executionId: 'e1', definition, input: input as never });
const tasks = (d: Decision) => d.commands.filter((c): c is Extract<Command, { type: 'ScheduleTask' }> => c.type === 'ScheduleTask');
const ok = (token: string, output: unknown): WorkflowEvent => ({ type: 'TaskSucceeded', token, output: output as never });
const fail = (token: string): WorkflowEvent => ({ type: 'TaskFailed', token, error: 'bosun.NonZeroExit', cause: 'exit 1' });

const chain = def({
  StartAt: 'A',
  States: {
    A: { Type: 'Task', Resource: 'bosun:run', Parameters: { step: 'a' }, ResultPath: '$.a', Next: 'B' },
    B: { Type: 'Task', Resource: 'bosun:run', Parameters: { step: 'b' }, Retry: [{ ErrorEquals: ['bosun.NonZeroExit'], IntervalSeconds: 1, MaxAttempts: 1 }], ResultPath: '$.b', End: true },
  },
});

/** Runs `chain` until B has failed twice (its one retry spent): the execution is FAILED in B. */
async function failedInB(): Promise<ExecutionState> {
  let d = await decide(undefined, started(chain, { n: 1 }), T0);
  d = await decide(d.execution, ok(tasks(d)[0]!.token, 'A-done'), T0 + 1);
  const b1 = tasks(d)[0]!;
  d = await decide(d.execution, fail(b1.token), T0 + 2);
  const retry = d.commands.find((c) => c.type === 'StartTimer');
  assert.ok(retry && retry.type === 'StartTimer');
  d = await decide(d.execution, { type: 'TimerFired', token: retry.token }, T0 + 1_002);
  const b2 = tasks(d)[0]!;
  assert.equal(b2.attempt, 2);
  d = await decide(d.execution, fail(b2.token), T0 + 1_003);
  assert.equal(d.execution.status, 'FAILED');
  return d.execution;
}

describe('redrive (pure)', () => {
  test('restarts the failed state with its input and fresh retries; the state that succeeded is not run again', async () => {
    const failed = await failedInB();
    const r = await redrive(failed, T0 + 5_000);
    assert.equal(r.execution.status, 'RUNNING');
    assert.equal(r.execution.error, undefined);
    assert.equal(r.execution.failedFrame, undefined);
    const scheduled = tasks(r);
    assert.equal(scheduled.length, 1);
    assert.deepEqual({ state: scheduled[0]!.state, attempt: scheduled[0]!.attempt, input: scheduled[0]!.input }, { state: 'B', attempt: 1, input: { n: 1, a: 'A-done' } });
    assert.ok(!Object.keys(failed.tokens).includes(scheduled[0]!.token), 'a new token, never one of the failed run');
    assert.deepEqual(r.history.map((h) => h.type), ['ExecutionRedriven', 'StateEntered', 'TaskScheduled']);
    assert.equal(r.history[0]!.state, 'B');
    assert.equal(r.execution.historyLength, failed.historyLength + 3);
    const done = await decide(r.execution, ok(scheduled[0]!.token, 'B-done'), T0 + 5_001);
    assert.equal(done.execution.status, 'SUCCEEDED');
    assert.deepEqual(done.execution.output, { n: 1, a: 'A-done', b: 'B-done' });
  });

  test('a failure caught nowhere inside a Parallel restarts the whole Parallel (every branch)', async () => {
    const par = def({
      StartAt: 'P',
      States: {
        P: {
          Type: 'Parallel', End: true,
          Branches: [
            { StartAt: 'X', States: { X: { Type: 'Task', Resource: 'bosun:run', Parameters: { b: 'x' }, End: true } } },
            { StartAt: 'Y', States: { Y: { Type: 'Task', Resource: 'bosun:run', Parameters: { b: 'y' }, End: true } } },
          ],
        },
      },
    });
    let d = await decide(undefined, started(par, { k: 1 }), T0);
    const [x, y] = tasks(d);
    d = await decide(d.execution, ok(x!.token, 'x'), T0 + 1);
    d = await decide(d.execution, fail(y!.token), T0 + 2);
    assert.equal(d.execution.status, 'FAILED');
    const r = await redrive(d.execution, T0 + 3);
    assert.deepEqual(tasks(r).map((t) => t.state).sort(), ['X', 'Y']);
    assert.ok(tasks(r).every((t) => JSON.stringify(t.input) === '{"k":1}'));
  });

  test('a timed out execution restarts the state it was in, with a new execution timer counted from the redrive', async () => {
    const slow = def({ StartAt: 'W', TimeoutSeconds: 10, States: { W: { Type: 'Wait', Seconds: 60, Next: 'T' }, T: { Type: 'Pass', End: true } } });
    const d1 = await decide(undefined, started(slow), T0);
    const d2 = await decide(d1.execution, { type: 'TimerFired', token: d1.execution.executionTimer! }, T0 + 10_000);
    assert.equal(statusOf(d2.execution), 'TIMED_OUT');
    const r = await redrive(d2.execution, T0 + 20_000);
    const timers = r.commands.filter((c) => c.type === 'StartTimer').map((c) => (c.type === 'StartTimer' ? c.at : ''));
    assert.deepEqual(timers.sort(), [new Date(T0 + 30_000).toISOString(), new Date(T0 + 80_000).toISOString()]);
    assert.ok(r.execution.executionTimer);
  });

  test('an aborted execution restarts the state that was running when it was cancelled', async () => {
    let d = await decide(undefined, started(chain, { n: 2 }), T0);
    d = await decide(d.execution, ok(tasks(d)[0]!.token, 'A-done'), T0 + 1);
    const aborted = abortTransition(d.execution, 'operator', T0 + 2);
    assert.equal(aborted.status, 'ABORTED');
    const r = await redrive(aborted.state, T0 + 3);
    assert.deepEqual(tasks(r).map((t) => t.state), ['B']);
  });

  test('refused: a running or succeeded execution, and one whose input was refused before any state', async () => {
    const d = await decide(undefined, started(chain), T0);
    await assert.rejects(redrive(d.execution, T0), RedriveRefused);
    const pass = await decide(undefined, started(def({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } })), T0);
    assert.equal(pass.execution.status, 'SUCCEEDED');
    await assert.rejects(redrive(pass.execution, T0), RedriveRefused);
    const big = await decide(undefined, { ...started(chain, { s: 'x'.repeat(300) }), limits: { payloadBytes: 100 } } as WorkflowEvent, T0);
    assert.equal(big.execution.status, 'FAILED');
    await assert.rejects(redrive(big.execution, T0), /before entering its first state/);
  });
});

describe('executor control transitions', () => {
  test('pause and resume each add one history event and leave the execution as it was', async () => {
    const d = await decide(undefined, started(chain), T0);
    const p = pauseTransition(d.execution, T0 + 1);
    assert.equal(p.status, 'PAUSED');
    assert.deepEqual(p.history.map((h) => h.type), ['ExecutionPaused']);
    assert.deepEqual(p.commands, []);
    assert.deepEqual(p.state.tokens, d.execution.tokens);
    const r = resumeTransition(p.state, T0 + 2);
    assert.equal(r.status, 'RUNNING');
    assert.equal(r.state.historyLength, d.execution.historyLength + 2);
  });

  test('runtimeFailure: FAILED with States.Runtime, outstanding work cancelled; built from the Started event when there is no state', async () => {
    const d = await decide(undefined, started(chain), T0);
    const f = runtimeFailure(d.execution, fail('t999'), 'boom', T0 + 1);
    assert.equal(f.status, 'FAILED');
    assert.deepEqual({ error: f.state.error, cause: f.state.cause }, { error: 'States.Runtime', cause: 'boom' });
    assert.ok(f.commands.some((c) => c.type === 'CancelTask' && c.token === tasks(d)[0]!.token));
    assert.equal(f.state.failedFrame?.state, 'A');
    const s = runtimeFailure(null, started(chain, { q: 1 }), 'no state "Nope"', T0);
    assert.deepEqual({ status: s.status, input: s.state.input, historyLength: s.state.historyLength }, { status: 'FAILED', input: { q: 1 }, historyLength: 1 });
    assert.throws(() => runtimeFailure(null, fail('t1'), 'x', T0), /before Started/);
  });
});
