/** The machine's own guarantees: stale events, plain-JSON rows, task tokens, heartbeats, default limits. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Definition } from '../../../src/workflow/definition.js';
import { decide, type Command, type ExecutionState, type WorkflowEvent } from '../../../src/workflow/machine.js';
import { runWorkflow } from '../../../src/workflow/memory-runner.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const def = (d: object) => d as Definition;
const started = (definition: Definition, input: unknown = {}): WorkflowEvent => ({ type: 'Started', executionId: 'e1', definition, input: input as never });
const only = <K extends Command['type']>(cs: Command[], type: K) => cs.filter((c): c is Extract<Command, { type: K }> => c.type === type);

describe('workflow machine', () => {
  const oneTask = def({ StartAt: 'T', States: { T: { Type: 'Task', Resource: 'bosun:run', TimeoutSeconds: 30, Parameters: { 'n.$': '$.n' }, End: true } } });

  test('ScheduleTask carries token, resource, parameters, attempt and timeout; the result completes the execution', async () => {
    const d1 = await decide(undefined, started(oneTask, { n: 1 }), T0);
    const [s] = only(d1.commands, 'ScheduleTask');
    assert.deepEqual({ ...s, token: undefined }, { type: 'ScheduleTask', token: undefined, resource: 'bosun:run', parameters: { n: 1 }, input: { n: 1 }, attempt: 1, state: 'T', waitForTaskToken: false, timeoutSeconds: 30 });
    assert.equal(only(d1.commands, 'StartTimer')[0]!.at, new Date(T0 + 30_000).toISOString());
    const d2 = await decide(d1.execution, { type: 'TaskSucceeded', token: s!.token, output: { ok: true } }, T0 + 5);
    assert.equal(d2.execution.status, 'SUCCEEDED');
    assert.deepEqual(d2.execution.output, { ok: true });
    assert.deepEqual(only(d2.commands, 'CancelTimer').length, 1, 'the timeout timer is cancelled');
    assert.deepEqual(d2.commands.at(-1), { type: 'CompleteExecution', status: 'SUCCEEDED', output: { ok: true } });
  });

  test('a duplicate or stale report changes nothing (no task result is applied twice)', async () => {
    const d1 = await decide(undefined, started(oneTask, { n: 1 }), T0);
    const token = only(d1.commands, 'ScheduleTask')[0]!.token;
    const unknown = await decide(d1.execution, { type: 'TaskSucceeded', token: 'nope', output: 1 }, T0 + 1);
    assert.deepEqual([unknown.commands, unknown.history, unknown.execution], [[], [], d1.execution]);
    // Timed out: the task is cancelled; its late result is ignored.
    const timer = only(d1.commands, 'StartTimer')[0]!.token;
    const d2 = await decide(d1.execution, { type: 'TimerFired', token: timer }, T0 + 30_000);
    assert.equal(d2.execution.status, 'FAILED');
    assert.deepEqual(only(d2.commands, 'CancelTask'), [{ type: 'CancelTask', token }]);
    const late = await decide(d2.execution, { type: 'TaskSucceeded', token, output: 1 }, T0 + 31_000);
    assert.deepEqual([late.commands, late.history], [[], []]);
    assert.equal(late.execution.error, 'States.Timeout');
  });

  test('the execution is plain JSON at every step, and the input row is never mutated', async () => {
    const d1 = await decide(undefined, started(oneTask, { n: 1 }), T0);
    const before = JSON.stringify(d1.execution);
    const token = only(d1.commands, 'ScheduleTask')[0]!.token;
    const d2 = await decide(JSON.parse(before) as ExecutionState, { type: 'TaskFailed', token, error: 'bosun.NonZeroExit', cause: 'exit 1' }, T0 + 1);
    assert.equal(JSON.stringify(d1.execution), before);
    assert.deepEqual(JSON.parse(JSON.stringify(d2.execution)), d2.execution);
    assert.equal(d2.execution.error, 'bosun.NonZeroExit');
  });

  test('.waitForTaskToken: the token reaches the task as $$.Task.Token and the report with it completes the state', async () => {
    const d = def({ StartAt: 'Ask', States: { Ask: { Type: 'Task', Resource: 'bosun:publish.waitForTaskToken', Parameters: { 'token.$': '$$.Task.Token', channel: 'approvals' }, End: true } } });
    const d1 = await decide(undefined, started(d), T0);
    const s = only(d1.commands, 'ScheduleTask')[0]!;
    assert.equal(s.waitForTaskToken, true);
    assert.deepEqual(s.parameters, { token: s.token, channel: 'approvals' });
    const d2 = await decide(d1.execution, { type: 'TaskSucceeded', token: s.token, output: { approved: true } }, T0 + 3_600_000);
    assert.deepEqual(d2.execution.output, { approved: true });
  });

  test('a heartbeat restarts the heartbeat timer; silence then fails the task with States.HeartbeatTimeout', async () => {
    const d = def({ StartAt: 'T', States: { T: { Type: 'Task', Resource: 'bosun:run', HeartbeatSeconds: 10, End: true } } });
    const d1 = await decide(undefined, started(d), T0);
    const token = only(d1.commands, 'ScheduleTask')[0]!.token;
    const hb1 = only(d1.commands, 'StartTimer')[0]!;
    const d2 = await decide(d1.execution, { type: 'TaskHeartbeat', token }, T0 + 8_000);
    assert.deepEqual(only(d2.commands, 'CancelTimer'), [{ type: 'CancelTimer', token: hb1.token }]);
    const hb2 = only(d2.commands, 'StartTimer')[0]!;
    assert.equal(hb2.at, new Date(T0 + 18_000).toISOString());
    const stale = await decide(d2.execution, { type: 'TimerFired', token: hb1.token }, T0 + 10_000);
    assert.equal(stale.execution.status, 'RUNNING', 'the replaced timer does nothing');
    const d3 = await decide(d2.execution, { type: 'TimerFired', token: hb2.token }, T0 + 18_000);
    assert.equal(d3.execution.error, 'States.HeartbeatTimeout');
    assert.deepEqual(only(d3.commands, 'CancelTask'), [{ type: 'CancelTask', token }]);
  });

  test('default payload limit is 256 KiB', async () => {
    const d = def({ StartAt: 'T', States: { T: { Type: 'Task', Resource: 'bosun:run', End: true } } });
    const small = await runWorkflow(d, {}, { tasks: { 'bosun:run': () => 'x'.repeat(250 * 1024) } });
    assert.equal(small.execution.status, 'SUCCEEDED');
    const big = await runWorkflow(d, {}, { tasks: { 'bosun:run': () => 'x'.repeat(257 * 1024) } });
    assert.equal(big.execution.error, 'States.DataLimitExceeded');
    assert.match(big.execution.cause!, /over the limit of 262144 bytes/);
  });

  test('default history limit is 25,000 events: a runaway loop fails with bosun.HistoryLimitExceeded', async () => {
    const d = def({ StartAt: 'A', States: { A: { Type: 'Wait', Seconds: 1, Next: 'B' }, B: { Type: 'Choice', Choices: [{ Variable: '$.stop', IsPresent: true, Next: 'Done' }], Default: 'A' }, Done: { Type: 'Succeed' } } });
    const t = performance.now();
    const r = await runWorkflow(d, {});
    const ms = performance.now() - t;
    assert.equal(r.execution.error, 'bosun.HistoryLimitExceeded');
    assert.ok(r.history.length <= 25_000 && r.history.length > 24_990, String(r.history.length));
    assert.equal(r.execution.historyLength, r.history.length);
    console.log(`25,000-event history: ${r.events.length} decisions in ${ms.toFixed(0)} ms`);
  });
});

test('ScheduleTask carries the state input after InputPath (a container task gets it as BOSUN_INPUT), not the Parameters', async () => {
  const d = await decide(undefined, started(def({ StartAt: 'T', States: { T: { Type: 'Task', Resource: 'bosun:run', InputPath: '$.data', Parameters: { image: 'alpine' }, End: true } } }), { data: { x: 1 }, other: 2 }), T0);
  const [s] = only(d.commands, 'ScheduleTask');
  assert.deepEqual(s!.input, { x: 1 });
  assert.deepEqual(s!.parameters, { image: 'alpine' });
});
