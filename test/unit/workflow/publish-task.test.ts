/**
 * The bosun:publish runner's own logic, on a recording transport: what it publishes (body,
 * message id, headers), that a re-run after a crash publishes under the same id, and its
 * refusals (Parameters by field, a callback message without its token, no broker). The real
 * broker path is in test/integration/workflow/callback.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PublishOptions, Transport } from '../../../src/ports/transport.js';
import { PublishTaskRunner } from '../../../src/workflow/durable/publish-task.js';
import type { TaskContext } from '../../../src/workflow/durable/tasks.js';
import type { Json } from '../../../src/workflow/json.js';

interface Sent { channel: string; body: string; opts: PublishOptions | undefined }
function recorder(fail?: Error): { transport: Transport; sent: Sent[] } {
  const sent: Sent[] = [];
  const transport = {
    kind: 'amqp',
    publish: async (channel: string, body: Buffer | string, opts?: PublishOptions) => {
      if (fail) throw fail;
      sent.push({ channel, body: body.toString(), opts });
    },
  } as unknown as Transport;
  return { transport, sent };
}

const ctx = (parameters: Json, waitForTaskToken = false): TaskContext => ({
  executionId: 'e.1',
  command: { type: 'ScheduleTask', token: 't3', resource: waitForTaskToken ? 'bosun:publish.waitForTaskToken' : 'bosun:publish', parameters, input: {}, attempt: 1, waitForTaskToken, state: 'Ask' },
  signal: new AbortController().signal,
  detached: new AbortController().signal,
});

describe('bosun:publish runner', () => {
  test('publishes the message as JSON with a deterministic id and the execution headers; a re-run uses the same id', async () => {
    const { transport, sent } = recorder();
    const r = new PublishTaskRunner(transport);
    const p = { channel: 'notices', message: { n: 1 }, headers: { kind: 'x' } };
    assert.deepEqual(await r.run(ctx(p)), { ok: true, output: { channel: 'notices', published: true } });
    await r.run(ctx(p)); // the same task after a crash
    assert.equal(sent.length, 2);
    assert.deepEqual(sent[0], { channel: 'notices', body: '{"n":1}', opts: { messageId: 'wf.e.1.t3', headers: { kind: 'x', 'bosun-execution-id': 'e.1', 'bosun-state': 'Ask' }, declare: true } });
    assert.deepEqual(sent[1], sent[0]);
  });

  test('.waitForTaskToken: dispatched once the message carrying the token is out', async () => {
    const { transport, sent } = recorder();
    const out = await new PublishTaskRunner(transport).run(ctx({ channel: 'approvals', message: { ask: [{ token: 'e.1.t3.secret' }] } }, true));
    assert.deepEqual(out, { dispatched: true });
    assert.equal(sent.length, 1);
  });

  test('refusals: Parameters by field, a callback message without its token, no broker, a failed publish', async () => {
    const { transport, sent } = recorder();
    const r = new PublishTaskRunner(transport);
    const cause = async (p: Json, wait = false, runner = r) => {
      const o = await runner.run(ctx(p, wait));
      assert.ok('ok' in o && !o.ok);
      return `${o.error}: ${o.cause}`;
    };
    assert.match(await cause({ message: 1 }), /^States\.Runtime: bosun:publish Parameters: channel: /);
    assert.match(await cause({ channel: 'c' }), /message: expected the message to publish/);
    assert.match(await cause({ channel: 'c', message: 1, extra: true }), /extra: unknown field/);
    assert.match(await cause({ channel: 'c', message: 1, headers: { a: 2 } }), /headers\.a: /);
    assert.match(await cause({ channel: 'amq.x', message: 1 }), /channel: expected a channel name/);
    assert.match(await cause({ channel: 'c', message: { token: 'e.1.t4.secret' } }, true), /^States\.Runtime: .*expected the task token/, 'another task\'s token is not this one');
    assert.match(await cause({ channel: 'c', message: 1 }, false, new PublishTaskRunner(undefined)), /^States\.Runtime: bosun:publish needs a broker/);
    assert.match(await cause({ channel: 'c', message: 1 }, false, new PublishTaskRunner(recorder(new Error('channel closed')).transport)), /^States\.TaskFailed: publishing to c failed: channel closed/);
    assert.equal(sent.length, 0, 'nothing refused was published');
  });
});
