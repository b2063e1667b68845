/**
 * Public task tokens: encode → parse → verify, and what must not verify (altered, another
 * task's or execution's, another key, malformed); and how the machine puts them in the
 * context object (`$$.Task.Token`, `$states.context.Task.Token`), as in the AWS callback
 * examples ("TaskToken.$": "$$.Task.Token").
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Definition } from '../../../src/workflow/definition.js';
import { decide, type Command, type WorkflowEvent } from '../../../src/workflow/machine.js';
import { encodeTaskToken, newTaskTokenKey, parseTaskToken, verifyTaskToken } from '../../../src/workflow/task-token.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const KEY = newTaskTokenKey();
const schedules = (cs: Command[]) => cs.filter((c): c is Extract<Command, { type: 'ScheduleTask' }> => c.type === 'ScheduleTask');
const started = (definition: object, input: unknown, key?: string): WorkflowEvent =>
  ({ type: 'Started', executionId: 'orders.2026-12.e1', definition: definition as Definition, input: input as never, ...(key ? { taskTokenKey: key } : {}) });

describe('task token encode/verify', () => {
  test('a token names its execution and task and verifies under its key', () => {
    const t = encodeTaskToken(KEY, 'orders.2026-12.e1', 't7');
    const p = parseTaskToken(t);
    assert.deepEqual(p && { executionId: p.executionId, token: p.token }, { executionId: 'orders.2026-12.e1', token: 't7' });
    assert.equal(verifyTaskToken(KEY, p!), true);
  });

  test('altered, moved or re-keyed tokens do not verify', () => {
    const t = encodeTaskToken(KEY, 'e1', 't7');
    const p = parseTaskToken(t)!;
    const flipped = p.mac[0] === 'A' ? `B${p.mac.slice(1)}` : `A${p.mac.slice(1)}`;
    assert.equal(verifyTaskToken(KEY, { ...p, mac: flipped }), false, 'one character of the secret changed');
    assert.equal(verifyTaskToken(KEY, { ...p, token: 't8' }), false, 'another task of the same execution');
    assert.equal(verifyTaskToken(KEY, { ...p, executionId: 'e2' }), false, 'another execution');
    assert.equal(verifyTaskToken(newTaskTokenKey(), p), false, 'another key');
    assert.notEqual(encodeTaskToken(KEY, 'e1', 't8').split('.').at(-1), p.mac, 'each task has its own secret');
  });

  test('malformed tokens do not parse', () => {
    const good = encodeTaskToken(KEY, 'e1', 't7');
    for (const bad of ['', 't7', 'e1.t7', `e1.t7.${'x'.repeat(10)}`, `${good}x`, good.replace('.t7.', '.7.'), good.replace('.t7.', '..'), `e1.t7.${'!'.repeat(32)}`]) {
      assert.equal(parseTaskToken(bad), undefined, JSON.stringify(bad));
    }
  });

  test('keys are fresh random values', () => {
    assert.notEqual(newTaskTokenKey(), newTaskTokenKey());
    assert.equal(Buffer.from(newTaskTokenKey(), 'base64url').length, 32);
  });
});

describe('$$.Task.Token in the context object', () => {
  const jsonPath = {
    StartAt: 'Ask',
    States: { Ask: { Type: 'Task', Resource: 'bosun:publish.waitForTaskToken', Parameters: { channel: 'approvals', message: { 'Message.$': '$.message', 'TaskToken.$': '$$.Task.Token' } }, End: true } },
  };

  test('JSONPath: "TaskToken.$": "$$.Task.Token" gives the signed public token of the scheduled task', async () => {
    const d = await decide(undefined, started(jsonPath, { message: 'deploy v2?' }, KEY), T0);
    const [s] = schedules(d.commands);
    const msg = (s!.parameters as { message: { Message: string; TaskToken: string } }).message;
    assert.equal(msg.Message, 'deploy v2?');
    assert.equal(msg.TaskToken, encodeTaskToken(KEY, 'orders.2026-12.e1', s!.token));
    assert.equal(verifyTaskToken(KEY, parseTaskToken(msg.TaskToken)!), true);
    assert.equal(d.execution.taskTokenKey, KEY, 'the key stays with the execution (for the channels to verify)');
    assert.ok(!JSON.stringify(d.history).includes(KEY), 'the key is in no history event');
  });

  test('JSONata: $states.context.Task.Token is the same public token', async () => {
    const def = { QueryLanguage: 'JSONata', StartAt: 'Ask', States: { Ask: { Type: 'Task', Resource: 'bosun:publish.waitForTaskToken', Arguments: { channel: 'approvals', message: { token: '{% $states.context.Task.Token %}' } }, End: true } } };
    const d = await decide(undefined, started(def, {}, KEY), T0);
    const [s] = schedules(d.commands);
    assert.equal((s!.parameters as { message: { token: string } }).message.token, encodeTaskToken(KEY, 'orders.2026-12.e1', s!.token));
  });

  test('inside a Map each iteration\'s task gets its own token', async () => {
    const def = {
      StartAt: 'Each',
      States: { Each: { Type: 'Map', ItemsPath: '$.items', ItemProcessor: { StartAt: 'Ask', States: { Ask: { Type: 'Task', Resource: 'bosun:publish.waitForTaskToken', Parameters: { channel: 'c', message: { 'item.$': '$', 'token.$': '$$.Task.Token' } }, End: true } } }, End: true } },
    };
    const d = await decide(undefined, started(def, { items: ['a', 'b'] }, KEY), T0);
    const tokens = schedules(d.commands).map((s) => (s.parameters as { message: { token: string } }).message.token);
    assert.equal(tokens.length, 2);
    assert.notEqual(tokens[0], tokens[1]);
    assert.deepEqual(schedules(d.commands).map((s, i) => tokens[i] === encodeTaskToken(KEY, 'orders.2026-12.e1', s.token)), [true, true]);
  });

  test('without a key (the in-memory runner) the token is the machine\'s own', async () => {
    const d = await decide(undefined, started(jsonPath, { message: 'x' }), T0);
    const [s] = schedules(d.commands);
    assert.equal((s!.parameters as { message: { TaskToken: string } }).message.TaskToken, s!.token);
  });
});
