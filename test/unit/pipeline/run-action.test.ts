/** runAction in process: the real registry and actions, a fake engine behind the port. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { defineAction } from '../../../src/actions/define.js';
import { buildRegistry, registryOf, type ActionRegistry } from '../../../src/actions/registry.js';
import type { ActionContext, ActionOutcome, RunKind } from '../../../src/actions/types.js';
import { BosunError } from '../../../src/domain/errors.js';
import { LABEL } from '../../../src/domain/labels.js';
import { DEFAULT_POLICY, type Policy } from '../../../src/domain/policy.js';
import type { Monitor } from '../../../src/monitors/manager.js';
import type { MessageFacts, RunHooks, RunResult } from '../../../src/pipeline/context.js';
import { RunQuotas } from '../../../src/pipeline/quotas.js';
import { runAction } from '../../../src/pipeline/run-action.js';
import type { ContainerEngine } from '../../../src/ports/engine.js';
import type { PublishOptions } from '../../../src/ports/transport.js';
import { silentLogger } from '../../../src/util/log.js';
import { fakeEngine } from '../../helpers/fake-engine.js';

interface Published {
  channel: string;
  body: string;
  opts: PublishOptions;
}

function setup(o: { registry?: ActionRegistry; engine?: ContainerEngine; policy?: Policy; message?: MessageFacts; hooks?: RunHooks; signal?: AbortSignal } = {}) {
  const published: Published[] = [];
  const monitors: Omit<Monitor, 'next_check_at'>[] = [];
  const engine = o.engine ?? fakeEngine([{ id: 'c1', name: 'web', labels: { [LABEL.managed]: 'true' } }]);
  let t = 1_000;
  const clock = { now: () => (t += 5) };
  const ctx = {
    registry: o.registry ?? buildRegistry({ monitors: { add: async (m) => void monitors.push(m) } }),
    engine,
    policy: o.policy ?? DEFAULT_POLICY,
    clock,
    log: silentLogger,
    quotas: new RunQuotas(engine, clock.now),
    publish: async (channel: string, body: string, opts: PublishOptions) => void published.push({ channel, body, opts }),
    signal: o.signal ?? new AbortController().signal,
    ...(o.message ? { message: o.message } : {}),
    ...(o.hooks ? { hooks: o.hooks } : {}),
  };
  return { ctx, published, monitors };
}

const json = (s: string) => JSON.parse(s) as Record<string, unknown>;

function replies(r: RunResult) {
  assert.equal(r.settle.kind, 'reply');
  return r.settle.kind === 'reply' ? r.settle.replies : [];
}

function parked(r: RunResult) {
  assert.equal(r.settle.kind, 'park');
  if (r.settle.kind !== 'park') throw new Error('not parked');
  return { record: json(r.settle.record.body), recordChannel: r.settle.record.channel, replies: r.settle.replies };
}

/** A test action whose handler the test writes. */
function testRegistry(handle: (ctx: ActionContext) => Promise<ActionOutcome>, runKind?: RunKind): ActionRegistry {
  const schema = z.strictObject({ request_id: z.string().optional(), response_channel: z.string().optional() });
  return registryOf([
    defineAction({ channel: 'probe', description: 'test', schema, replyChannelOf: (i) => i.response_channel, ...(runKind ? { runKindOf: () => runKind } : {}), handle: (_i, ctx) => handle(ctx) }),
  ]);
}

describe('runAction', () => {
  it('runs a real action against the engine and says where its envelope goes', async () => {
    const { ctx } = setup({ message: { replyTo: 'bosun.reply.x', correlationId: 'cid-1' } });
    const r = await runAction('container_status', { request_id: 'r-1', name: 'web', response_channel: 'out' }, ctx);
    assert.equal(r.requestId, 'r-1');
    assert.equal(r.status, 'ok');
    assert.equal(r.envelope?.ok, true);
    assert.deepEqual(r.envelope?.container, { id: 'c1', name: 'web' });
    assert.equal((r.envelope?.result as { running: boolean }).running, true);
    const out = replies(r);
    assert.deepEqual(out.map((x) => [x.channel, x.declare, x.correlationId, x.messageId]), [['out', true, 'cid-1', 'r-1'], ['bosun.reply.x', false, 'cid-1', 'r-1']]);
    assert.deepEqual(json(out[0]!.body), json(out[1]!.body));
  });

  it('takes a JSON5 string body as the agent does (the seeds\' single quotes)', async () => {
    const { ctx } = setup({ message: { replyTo: 'bosun.reply.x' } });
    const r = await runAction('container_status', "{name: 'web'}", ctx);
    assert.equal(r.envelope?.ok, true);
    assert.equal(replies(r).length, 1);
  });

  it('parks what cannot be decoded, validated or routed, with an error envelope to the sender', async () => {
    const { ctx } = setup({ message: { replyTo: 'bosun.reply.x', messageId: 'm-1' } });
    const bad = parked(await runAction('container_status', Buffer.from('{nope'), ctx));
    assert.equal(bad.recordChannel, 'bosun.errors');
    assert.equal((bad.record.error as { code: string }).code, 'bad_json');
    assert.equal(bad.record.body, '{nope');
    assert.deepEqual(bad.replies.map((x) => x.channel), ['bosun.reply.x']);
    assert.equal((json(bad.replies[0]!.body).error as { code: string }).code, 'bad_json');

    const unknown = parked(await runAction('no_such_channel', { name: 'web' }, ctx));
    assert.equal((unknown.record.error as { code: string }).code, 'unknown_channel');

    const invalid = await runAction('container_status', { name: 'web', colour: 'red', response_channel: 'out' }, ctx);
    const p = parked(invalid);
    assert.equal(invalid.status, 'rejected');
    assert.deepEqual(invalid.envelope?.error && [invalid.envelope.error.code, invalid.envelope.error.field], ['invalid_message', 'colour']);
    // The response_channel read from the body before validation still gets the error.
    assert.deepEqual(p.replies.map((x) => x.channel), ['out', 'bosun.reply.x']);
  });

  it('policy: a container bosun did not make is refused, and parked as policy_denied', async () => {
    const { ctx } = setup({ engine: fakeEngine([{ id: 'c2', name: 'theirs' }]), message: { replyTo: 'bosun.reply.x' } });
    const r = await runAction('container_status', { name: 'theirs' }, ctx);
    assert.equal(parked(r).record.channel, 'container_status');
    assert.equal(r.envelope?.error?.code, 'policy_denied');
  });

  it('retryable failures are handed back with an attempt count, then parked as redelivery_limit; engine outages are not counted', async () => {
    let handled = 0;
    const registry = testRegistry(async () => {
      handled++;
      throw new BosunError('timeout', 'slow');
    });
    const first = await runAction('probe', {}, setup({ registry }).ctx);
    assert.equal(handled, 1);
    assert.deepEqual(first.settle.kind === 'retry' && [first.settle.kind, first.settle.attempts], ['retry', 1]);
    assert.equal(first.status, 'requeued');
    assert.equal(first.error?.code, 'timeout');

    const last = await runAction('probe', {}, setup({ registry, message: { attempts: 4 } }).ctx);
    assert.equal(handled, 2);
    assert.equal(parked(last).record.channel, 'probe');
    assert.deepEqual((last.envelope?.error?.details as { attempts: number }).attempts, 5);
    assert.equal(last.envelope?.error?.code, 'redelivery_limit');

    const outage = testRegistry(async () => {
      throw new BosunError('engine_unavailable', 'down');
    });
    const r = await runAction('probe', {}, setup({ registry: outage, message: { attempts: 4 } }).ctx);
    assert.equal(r.settle.kind, 'requeue');
  });

  it('on shutdown a retryable failure is handed back at once, as it is', async () => {
    const stop = new AbortController();
    let handled = false;
    const registry = testRegistry(async (ctx) => {
      handled = true;
      stop.abort();
      assert.equal(ctx.signal.aborted, true);
      throw new BosunError('timeout', 'the agent is shutting down');
    });
    const r = await runAction('probe', {}, setup({ registry, signal: stop.signal }).ctx);
    assert.equal(handled, true);
    assert.deepEqual(r.settle, { kind: 'requeue', delayMs: 0 });
    assert.equal(r.status, undefined);
  });

  it('monitor_container_status: the acknowledgement goes to reply_to only; the monitor is registered', async () => {
    const { ctx, monitors } = setup({ message: { replyTo: 'bosun.reply.m' } });
    const r = await runAction('monitor_container_status', { request_id: 'mon-1', name: 'web', response_channel: 'notices' }, ctx);
    assert.equal(r.envelope?.ok, true);
    assert.deepEqual(monitors, [{ id: 'mon-1', name: 'web', response_channel: 'notices', interval_s: 10 }]);
    assert.deepEqual(replies(r).map((x) => x.channel), ['bosun.reply.m']);
    assert.deepEqual(ctx.registry.get('monitor_container_status')?.delivery, { prefetch: { atLeast: 64 }, replies: 'reply_to' });
    assert.deepEqual(ctx.registry.get('container_status')?.delivery, { prefetch: 'concurrency', replies: 'sender' });
  });

  it('publishProgress publishes on the reply paths, in order, before the final envelope; a no-op without any', async () => {
    const registry = testRegistry(async (ctx) => {
      await ctx.publishProgress({ seq: 0, data: 'a' });
      await ctx.publishProgress({ seq: 1, data: 'b' });
      return { reply: { result: 'done' } };
    });
    const { ctx, published } = setup({ registry, message: { replyTo: 'bosun.reply.p', correlationId: 'c' } });
    const r = await runAction('probe', { request_id: 'p-1', response_channel: 'out' }, ctx);
    assert.equal(r.envelope?.result, 'done');
    assert.deepEqual(published.map((p) => [p.channel, json(p.body).data, p.opts.messageId, p.opts.correlationId]), [
      ['out', 'a', 'p-1:progress:0', 'c'],
      ['bosun.reply.p', 'a', 'p-1:progress:0', 'c'],
      ['out', 'b', 'p-1:progress:1', 'c'],
      ['bosun.reply.p', 'b', 'p-1:progress:1', 'c'],
    ]);

    const quiet = setup({ registry });
    const q = await runAction('probe', {}, quiet.ctx);
    assert.equal(q.envelope?.result, 'done');
    assert.deepEqual(replies(q), []);
    assert.deepEqual(quiet.published, []);
  });

  it('idempotency: a checkpointed copy of work still running is adopted, not run again; one from anyone else runs', async () => {
    let handled = 0;
    const registry = testRegistry(async () => ({ reply: { result: ++handled } }));
    const asked: string[] = [];
    const hooks: RunHooks = { resumed: (id) => (asked.push(id), 'adopted') };
    const own = await runAction('probe', { request_id: 'long-1' }, setup({ registry, hooks, message: { resumed: true, ownCopy: true } }).ctx);
    assert.deepEqual(own.settle, { kind: 'none' });
    assert.deepEqual(asked, ['long-1']);
    assert.equal(handled, 0);
    // The same header on a message that is not the agent's own copy proves nothing.
    const forged = await runAction('probe', { request_id: 'long-1' }, setup({ registry, hooks, message: { resumed: true, ownCopy: false } }).ctx);
    assert.equal(forged.envelope?.result, 1);
    assert.deepEqual(asked, ['long-1']);
  });

  it('quotas: the run kind an action declares is admitted or refused before its handler', async () => {
    let handled = 0;
    const registry = testRegistry(async () => ({ reply: { result: ++handled } }), 'attached');
    const policy: Policy = { ...DEFAULT_POLICY, quotas: { ...DEFAULT_POLICY.quotas, runs_per_minute: 1 } };
    const { ctx } = setup({ registry, policy, message: { publisher: 'alice' } });
    assert.equal((await runAction('probe', {}, ctx)).envelope?.ok, true);
    const refused = await runAction('probe', {}, ctx);
    assert.equal(handled, 1);
    assert.deepEqual(refused.envelope?.error && [refused.envelope.error.code, refused.envelope.error.field], ['quota_exceeded', 'quotas.runs_per_minute']);
    // A redelivery of an admitted run is not a new run.
    assert.equal((await runAction('probe', {}, { ...ctx, message: { publisher: 'alice', redelivered: true } })).envelope?.ok, true);
    assert.equal(handled, 2);
  });

  it('a reply that cannot be published becomes a failure of the message, planned the same way', async () => {
    const { ctx } = setup({ message: { replyTo: 'bosun.reply.x' } });
    const r = await runAction('container_status', { name: 'web' }, ctx);
    const instead = r.onPublishError?.(new BosunError('broker_error', 'channel closed'));
    assert.equal(instead?.settle.kind, 'retry');
    assert.equal(instead?.requestId, r.requestId);
  });
});
