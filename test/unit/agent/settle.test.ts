/**
 * The Settler's reply step: a run's replies go out side by side (reply_to does not wait for the
 * response_channel's durable confirm), and when the broker refuses some of them only those are
 * sent again — the run is never done a second time for a reply, so no path hears two answers.
 * The RunResults come from runAction (a counting probe action); the transport is scripted.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { defineAction } from '../../../src/actions/define.js';
import { registryOf } from '../../../src/actions/registry.js';
import { ATTEMPTS_HEADER } from '../../../src/agent/copies.js';
import { Settler } from '../../../src/agent/settle.js';
import { BosunError } from '../../../src/domain/errors.js';
import { DEFAULT_POLICY } from '../../../src/domain/policy.js';
import type { InboundMessage, PublishOptions, Transport } from '../../../src/ports/transport.js';
import { RunQuotas } from '../../../src/pipeline/quotas.js';
import { runAction } from '../../../src/pipeline/run-action.js';
import { silentLogger } from '../../../src/util/log.js';
import { fakeEngine } from '../../helpers/fake-engine.js';

const RC = 'results-q';
const REPLY_TO = 'bosun.reply.caller';
const ERRORS = 'errors-q';

interface Sent { channel: string; body: string; opts: PublishOptions | undefined }

/** A transport whose publishes to a channel succeed, fail, or wait, as the test says. */
class ScriptedTransport {
  readonly kind = 'amqp' as const;
  readonly sent: Sent[] = [];
  /** Per channel: how many more publishes are refused (Infinity: all). */
  readonly refuse = new Map<string, number>();
  /** Per channel: a publish that waits until the test lets it go. */
  readonly hold = new Map<string, Promise<void>>();
  async publish(channel: string, body: Buffer | string, opts?: PublishOptions): Promise<void> {
    this.sent.push({ channel, body: body.toString(), opts });
    await this.hold.get(channel);
    const n = this.refuse.get(channel) ?? 0;
    if (n > 0) {
      this.refuse.set(channel, n - 1);
      throw new BosunError('broker_error', `the broker refused the message for ${channel} (nack)`, { details: { nack: true } });
    }
  }
  to(channel: string): Sent[] {
    return this.sent.filter((s) => s.channel === channel);
  }
}

function inbound(settled: string[]): InboundMessage {
  return {
    channel: 'probe', body: Buffer.from('{}'), messageId: 'req-1', replyTo: REPLY_TO, headers: {}, redelivered: false,
    ack: async () => void settled.push('ack'),
    nack: async (o) => void settled.push(o.requeue ? 'requeue' : 'drop'),
  };
}

async function setup(maxAttempts = 3) {
  let runs = 0;
  const schema = z.strictObject({ response_channel: z.string() });
  const registry = registryOf([
    defineAction({ channel: 'probe', description: 'test', schema, runKindOf: () => 'attached', replyChannelOf: (i) => i.response_channel, handle: async () => {
      runs++;
      return { reply: { result: { run: runs } } };
    } }),
  ]);
  const engine = fakeEngine();
  const now = () => Date.now();
  const result = await runAction('probe', { response_channel: RC }, {
    registry, engine, policy: DEFAULT_POLICY, clock: { now }, log: silentLogger, quotas: new RunQuotas(engine, now),
    publish: async () => undefined, signal: new AbortController().signal, maxAttempts, errorsChannel: ERRORS,
    message: { messageId: 'req-1', replyTo: REPLY_TO },
  });
  let cleanups = 0;
  result.afterSettle = async () => void cleanups++;
  const transport = new ScriptedTransport();
  const done: string[] = [];
  const settler = new Settler({ transport: transport as unknown as Transport, log: silentLogger, owed: (_id, m) => m, done: (id) => void done.push(id) });
  const settled: string[] = [];
  return { result, transport, settler, settled, msg: inbound(settled), done, runs: () => runs, cleanups: () => cleanups };
}

describe('Settler: replies side by side, refused ones re-sent, never a second run', () => {
  it('the run has both paths (the premise of the tests below)', async () => {
    const s = await setup();
    assert.equal(s.result.settle.kind, 'reply');
    assert.deepEqual(s.result.settle.kind === 'reply' ? s.result.settle.replies.map((r) => r.channel) : [], [RC, REPLY_TO]);
  });

  it('reply_to is published while the response_channel still waits for its confirm; acked once both are out', async () => {
    const s = await setup();
    let letGo!: () => void;
    s.transport.hold.set(RC, new Promise((r) => (letGo = r)));
    const settling = s.settler.settle(s.msg, s.result, undefined);
    await new Promise((r) => setImmediate(r));
    assert.equal(s.transport.to(REPLY_TO).length, 1, 'reply_to went out before the response_channel was confirmed');
    assert.deepEqual(s.settled, [], 'not acked before the response_channel is confirmed');
    letGo();
    await settling;
    assert.deepEqual(s.settled, ['ack']);
    assert.deepEqual([s.done, s.cleanups()], [['req-1'], 1]);
  });

  it('a refused response_channel gets the same reply again (reply_to once, the run not redone, no copy handed back)', async () => {
    const s = await setup(3);
    s.transport.refuse.set(RC, 2);
    await s.settler.settle(s.msg, s.result, undefined);
    const rc = s.transport.to(RC);
    assert.equal(rc.length, 3, 'sent, refused twice, sent again until accepted');
    assert.ok(rc.every((x) => x.body === rc[0]!.body), 'the same envelope each time');
    assert.equal(s.transport.to(REPLY_TO).length, 1, 'reply_to heard once');
    assert.equal(JSON.parse(s.transport.to(REPLY_TO)[0]!.body).request_id, 'req-1');
    assert.deepEqual([s.transport.to('probe').length, s.transport.to(ERRORS).length, s.runs()], [0, 0, 1], 'no retry copy, nothing parked, one run');
    assert.deepEqual([s.settled, s.cleanups()], [['ack'], 1]);
  });

  it('a refused reply_to is re-sent the same way while the response_channel has its reply', async () => {
    const s = await setup(3);
    s.transport.refuse.set(REPLY_TO, 1);
    await s.settler.settle(s.msg, s.result, undefined);
    assert.deepEqual([s.transport.to(RC).length, s.transport.to(REPLY_TO).length, s.transport.to('probe').length], [1, 2, 0]);
    assert.deepEqual(s.settled, ['ack']);
  });

  it('a response_channel that keeps refusing: its reply is parked with its body (one record), acked; reply_to heard once', async () => {
    const s = await setup(2);
    s.transport.refuse.set(RC, Infinity);
    await s.settler.settle(s.msg, s.result, undefined);
    assert.equal(s.transport.to(RC).length, 2, 'sent --max-attempts times');
    const records = s.transport.to(ERRORS);
    assert.equal(records.length, 1);
    const rec = JSON.parse(records[0]!.body) as { request_id: string; error: { code: string; details: { undelivered: { channel: string; body: string }[]; answered: string[] } } };
    assert.deepEqual([rec.request_id, rec.error.code, rec.error.details.answered], ['req-1', 'broker_error', [REPLY_TO]]);
    assert.deepEqual(rec.error.details.undelivered, [{ channel: RC, body: s.transport.to(RC)[0]!.body }], 'the undelivered reply is kept whole');
    assert.deepEqual([s.transport.to(REPLY_TO).length, s.transport.to('probe').length, s.runs()], [1, 0, 1]);
    assert.deepEqual([s.settled, s.cleanups()], [['ack'], 1]);
  });

  it('when no path takes the reply the message is handed back as before (a counted copy), nothing parked', async () => {
    const s = await setup(3);
    s.transport.refuse.set(RC, Infinity);
    s.transport.refuse.set(REPLY_TO, Infinity);
    await s.settler.settle(s.msg, s.result, undefined);
    const copies = s.transport.to('probe');
    assert.equal(copies.length, 1);
    assert.equal(copies[0]!.opts?.headers?.[ATTEMPTS_HEADER], '1');
    assert.deepEqual([s.transport.to(ERRORS).length, s.settled, s.cleanups()], [0, ['ack'], 0]);
  });

  it('when the errors queue refuses the record too, the message falls back to its failure plan (a counted copy)', async () => {
    const s = await setup(2);
    s.transport.refuse.set(RC, Infinity);
    s.transport.refuse.set(ERRORS, Infinity);
    await s.settler.settle(s.msg, s.result, undefined);
    assert.equal(s.transport.to(ERRORS).length, 1);
    assert.equal(s.transport.to('probe').length, 1, 'handed back as a counted copy: nothing is lost');
    assert.deepEqual(s.settled, ['ack']);
  });
});
