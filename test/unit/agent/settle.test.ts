/**
 * The Settler's reply step: a run's replies go out side by side (reply_to does not wait for the
 * response_channel's durable confirm), and when the broker refuses some of them only those are
 * sent again — the run is never done a second time for a reply, so no path hears two answers.
 * The RunResults come from runAction (a counting probe action); the transport is scripted.
 */
import { after, before, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { defineAction } from '../../../src/actions/define.js';
import { registryOf } from '../../../src/actions/registry.js';
import { Agent } from '../../../src/agent/agent.js';
import { ATTEMPTS_HEADER } from '../../../src/agent/copies.js';
import { openRunLedger, type SqlRunLedger } from '../../../src/adapters/store-sql/run-ledger.js';
import { Settler } from '../../../src/agent/settle.js';
import { BosunError } from '../../../src/domain/errors.js';
import { DEFAULT_POLICY } from '../../../src/domain/policy.js';
import type { InboundMessage, MessageHandler, PublishOptions, Transport } from '../../../src/ports/transport.js';
import type { MessageFacts } from '../../../src/pipeline/context.js';
import { UNDELIVERED_BODY_CHARS } from '../../../src/pipeline/failure.js';
import { RunQuotas } from '../../../src/pipeline/quotas.js';
import { runAction } from '../../../src/pipeline/run-action.js';
import { silentLogger } from '../../../src/util/log.js';
import { fakeEngine } from '../../helpers/fake-engine.js';
import { eventually } from '../../helpers/docker.js';

const RC = 'results-q';
const REPLY_TO = 'bosun.reply.caller';
const ERRORS = 'errors-q';

interface Sent { channel: string; body: string; opts: PublishOptions | undefined }

/** A transport whose publishes to a channel succeed, fail, or wait, as the test says. */
class ScriptedTransport {
  readonly kind = 'amqp' as const;
  readonly identity = undefined;
  readonly sent: Sent[] = [];
  /** Settlements of the deliveries this transport made (by tag). */
  readonly settled: string[] = [];
  private readonly handlers = new Map<string, MessageHandler>();
  /** How long a published message takes to reach a consumer of its channel. */
  deliverAfterMs = 0;
  async connect(): Promise<void> {}
  async declareChannel(): Promise<void> {}
  async consume(channel: string, h: MessageHandler): Promise<{ cancel(): Promise<void> }> {
    this.handlers.set(channel, h);
    return { cancel: async () => undefined };
  }
  /** A delivery of a message to a consumer, as the broker would make it. */
  deliver(channel: string, body: string, o: PublishOptions, tag: string): Promise<void> {
    return this.handlers.get(channel)!({
      channel, body: Buffer.from(body), headers: o.headers ?? {}, redelivered: false,
      ...(o.messageId ? { messageId: o.messageId } : {}), ...(o.replyTo ? { replyTo: o.replyTo } : {}),
      ack: async () => void this.settled.push(`ack ${tag}`),
      nack: async () => void this.settled.push(`nack ${tag}`),
    });
  }
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
    if (this.handlers.has(channel)) setTimeout(() => void this.deliver(channel, body.toString(), opts ?? {}, `copy-${this.sent.length}`), this.deliverAfterMs);
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

let ledger: SqlRunLedger;
before(async () => (ledger = await openRunLedger('memory:')));
after(async () => ledger.close());

/** A counting action with both reply paths; `big` makes its reply that many characters longer. */
function probeRegistry(o: { big?: number; ms?: number } = {}) {
  const counter = { runs: 0 };
  const schema = z.strictObject({ response_channel: z.string(), request_id: z.string().optional() });
  const registry = registryOf([
    defineAction({ channel: 'probe', description: 'test', schema, runKindOf: () => 'attached', replyChannelOf: (i) => i.response_channel, handle: async () => {
      counter.runs++;
      if (o.ms) await new Promise((r) => setTimeout(r, o.ms));
      return { reply: { result: { run: counter.runs, ...(o.big ? { big: 'x'.repeat(o.big) } : {}) } } };
    } }),
  ]);
  return { registry, counter };
}

function pipelineDeps(registry: ReturnType<typeof probeRegistry>['registry'], maxAttempts: number) {
  const engine = fakeEngine();
  const now = () => Date.now();
  return { registry, engine, policy: DEFAULT_POLICY, clock: { now }, log: silentLogger, quotas: new RunQuotas(engine, now), publish: async () => undefined, signal: new AbortController().signal, maxAttempts, errorsChannel: ERRORS };
}

async function setup(maxAttempts = 3, o: { big?: number; signal?: AbortSignal } = {}) {
  const { registry, counter } = probeRegistry(o.big ? { big: o.big } : {});
  const result = await runAction('probe', { response_channel: RC }, { ...pipelineDeps(registry, maxAttempts), message: { messageId: 'req-1', replyTo: REPLY_TO } });
  let cleanups = 0;
  result.afterSettle = async () => void cleanups++;
  const transport = new ScriptedTransport();
  const done: string[] = [];
  const settler = new Settler({ transport: transport as unknown as Transport, log: silentLogger, owed: (_id, m) => m, done: (id) => void done.push(id), ...(o.signal ? { signal: o.signal } : {}) });
  const settled: string[] = [];
  return { result, transport, settler, settled, msg: inbound(settled), done, runs: () => counter.runs, cleanups: () => cleanups };
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
    const sent = s.transport.to(RC)[0]!.body;
    assert.deepEqual(rec.error.details.undelivered, [{ channel: RC, body: sent, body_bytes: Buffer.byteLength(sent) }], 'the undelivered reply is kept whole');
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
  it('--max-attempts 1: a refused reply is not sent again; it is parked at once', async () => {
    const s = await setup(1);
    s.transport.refuse.set(RC, Infinity);
    await s.settler.settle(s.msg, s.result, undefined);
    assert.deepEqual([s.transport.to(RC).length, s.transport.to(ERRORS).length, s.settled], [1, 1, ['ack']]);
  });

  it('shutdown during the backoff: the refused reply is parked at once, not after the remaining delays', async (t) => {
    const stop = new AbortController();
    const s = await setup(5, { signal: stop.signal });
    s.transport.refuse.set(RC, Infinity);
    // Timers frozen: the backoff never ends by itself, so only the stop can end the settling.
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const settling = s.settler.settle(s.msg, s.result, undefined);
    for (let i = 0; i < 50 && s.transport.to(RC).length < 1; i++) await new Promise((r) => setImmediate(r));
    assert.equal(s.transport.to(RC).length, 1, 'the first send was refused');
    stop.abort();
    await settling;
    assert.deepEqual([s.transport.to(RC).length, s.transport.to(ERRORS).length, s.settled], [1, 1, ['ack']], 'no resend after the stop; parked; acked');
  });

  it("a parked reply over the record's cap keeps its first characters, its size and its sha256", async () => {
    const s = await setup(1, { big: UNDELIVERED_BODY_CHARS + 5_000 });
    s.transport.refuse.set(RC, Infinity);
    await s.settler.settle(s.msg, s.result, undefined);
    const sent = s.transport.to(RC)[0]!.body;
    const rec = JSON.parse(s.transport.to(ERRORS)[0]!.body) as { error: { details: { undelivered: { body: string; body_bytes: number; body_truncated?: boolean; body_sha256?: string }[] } } };
    const [u] = rec.error.details.undelivered;
    assert.deepEqual([u?.body, u?.body_bytes, u?.body_truncated, u?.body_sha256], [sent.slice(0, UNDELIVERED_BODY_CHARS), Buffer.byteLength(sent), true, createHash('sha256').update(sent).digest('hex')]);
  });

  it("with a run ledger, a done run's stored replies re-sent on redelivery: the refused one is sent again and parked, never a retry that ends in redelivery_limit", async () => {
    const { registry, counter } = probeRegistry();
    const deps = { ...pipelineDeps(registry, 3), ledger: { ledger, owner: 'settle-a', leaseMs: 60_000 } };
    const body = { request_id: 'stored-1', response_channel: RC };
    const facts: MessageFacts = { messageId: 'stored-1', replyTo: REPLY_TO, publisher: 'alice' };
    // The first delivery ran and stored its replies; its agent died before they were confirmed.
    await runAction('probe', body, { ...deps, message: facts });
    const again = await runAction('probe', body, { ...deps, message: { ...facts, redelivered: true } });
    assert.equal(again.settle.kind, 'reply', 'the stored replies are re-sent, the run is not done again');
    const transport = new ScriptedTransport();
    transport.refuse.set(RC, Infinity);
    const acks: string[] = [];
    const settler = new Settler({ transport: transport as unknown as Transport, log: silentLogger, owed: (_id, m) => m, done: () => undefined });
    await settler.settle(inbound(acks), again, 'alice');
    const heard = transport.to(REPLY_TO).map((x) => JSON.parse(x.body) as { ok: boolean; result?: { run: number } });
    assert.deepEqual(heard.map((e) => [e.ok, e.result?.run]), [[true, 1]], 'reply_to heard the stored reply, nothing else');
    assert.deepEqual([transport.to(RC).length, transport.to(ERRORS).length, transport.to('probe').length, counter.runs, acks], [3, 1, 0, 1, ['ack']]);
    // Parked counts as answered: the ledger is confirmed, so a later delivery is acked without a reply.
    const third = await runAction('probe', body, { ...deps, message: { ...facts, redelivered: true } });
    assert.deepEqual(third.settle, { kind: 'ack' });
  });

  it('a checkpoint copy that comes while a refused reply waits to be sent again is acked, not run a second time', async () => {
    const { registry, counter } = probeRegistry({ ms: 150 });
    const transport = new ScriptedTransport();
    // Checkpointed at 100 ms; the copy comes back at ~550 ms, inside the resend's first backoff (run ends at 150, resend at 650–1150).
    transport.deliverAfterMs = 450;
    transport.refuse.set(RC, 1);
    const agent = new Agent({ transport: transport as unknown as Transport, engine: fakeEngine(), registry, policy: DEFAULT_POLICY, clock: { now: () => Date.now() }, log: silentLogger, concurrency: 2, checkpointMs: 100, maxAttempts: 3, errorsChannel: ERRORS });
    await agent.start();
    try {
      await transport.deliver('probe', JSON.stringify({ response_channel: RC }), { messageId: 'ck-1', replyTo: REPLY_TO }, 'original');
      const copy = transport.to('probe')[0];
      assert.ok(copy, 'the long run was checkpointed (its copy published)');
      assert.equal(transport.to(RC).length, 2, 'the refused reply was sent again');
      await eventually('the copy settled', async () => transport.settled.some((x) => x.startsWith('ack copy-')), 5_000, 10);
      assert.equal(counter.runs, 1, 'the copy was not run');
      assert.equal(transport.to(REPLY_TO).length, 1, 'reply_to heard once');
    } finally {
      await agent.stop();
    }
  });
});
