/**
 * The run-ledger step of runAction, on a real (in-memory PGlite) ledger: what a second
 * delivery does while the first agent's lease lives, after it finished, after its lease
 * expired, and when its reply was never confirmed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { defineAction } from '../../../src/actions/define.js';
import { registryOf } from '../../../src/actions/registry.js';
import type { ActionContext } from '../../../src/actions/types.js';
import { openRunLedger, type SqlRunLedger } from '../../../src/adapters/store-sql/run-ledger.js';
import { BosunError } from '../../../src/domain/errors.js';
import { DEFAULT_POLICY } from '../../../src/domain/policy.js';
import type { MessageFacts, RunResult } from '../../../src/pipeline/context.js';
import { RunQuotas } from '../../../src/pipeline/quotas.js';
import { runAction } from '../../../src/pipeline/run-action.js';
import { silentLogger } from '../../../src/util/log.js';
import { fakeEngine } from '../../helpers/fake-engine.js';

let ledger: SqlRunLedger;
before(async () => (ledger = await openRunLedger('memory:')));
after(async () => ledger.close());

/** A run-starting action that counts its starts and sees whether it is a repeat. */
function probe(behave: (ctx: ActionContext) => Promise<void> = async () => undefined) {
  const starts: { redelivered: boolean }[] = [];
  const schema = z.strictObject({ request_id: z.string().optional() });
  const registry = registryOf([
    defineAction({ channel: 'probe', description: 'test', schema, runKindOf: () => 'attached', handle: async (_i, ctx) => {
      starts.push({ redelivered: ctx.redelivered });
      await behave(ctx);
      return { reply: { result: { n: starts.length } } };
    } }),
    defineAction({ channel: 'look', description: 'test', schema, handle: async () => ({ reply: { result: {} } }) }),
  ]);
  return { registry, starts };
}

function ctxFor(registry: ReturnType<typeof probe>['registry'], owner: string, o: { leaseMs?: number; message?: MessageFacts } = {}) {
  const engine = fakeEngine();
  let t = 1_000;
  const clock = { now: () => (t += 5) };
  return {
    registry, engine, policy: DEFAULT_POLICY, clock, log: silentLogger, quotas: new RunQuotas(engine, clock.now),
    publish: async () => undefined, signal: new AbortController().signal, maxAttempts: 2,
    ledger: { ledger, owner, leaseMs: o.leaseMs ?? 60_000 },
    message: { replyTo: 'bosun.reply.t', publisher: 'alice', ...o.message },
  };
}

/** What the Settler does on success: publish, ack, then afterSettle. */
async function settled(r: RunResult): Promise<RunResult> {
  if (r.settle.kind === 'reply') await r.afterSettle?.();
  return r;
}

const envelopeOf = (r: RunResult) => (r.settle.kind === 'reply' ? JSON.parse(r.settle.replies[0]!.body) as Record<string, unknown> : undefined);
const key = (requestId: string, channel = 'probe') => ({ channel, publisher: 'alice', requestId });

describe('runAction with the run ledger', () => {
  it('runs once; a later delivery of the done request is acked without a second reply', async () => {
    const p = probe();
    const first = await settled(await runAction('probe', { request_id: 'l-1' }, ctxFor(p.registry, 'a')));
    assert.equal(first.settle.kind, 'reply');
    assert.equal(envelopeOf(first)?.attempt, undefined, 'a first attempt says nothing');
    const again = await runAction('probe', { request_id: 'l-1' }, ctxFor(p.registry, 'b', { message: { redelivered: true } }));
    assert.deepEqual(again.settle, { kind: 'ack' });
    assert.equal(p.starts.length, 1);
    const row = await ledger.get(key('l-1'));
    assert.deepEqual([row?.status, row?.confirmed, row?.attempt, row?.holder], ['done', true, 1, 'a']);
  });

  it('while another agent holds the lease the message is handed back, uncounted, and not started', async () => {
    let releaseRun!: () => void;
    const gate = new Promise<void>((r) => (releaseRun = r));
    const p = probe(() => gate);
    const running = runAction('probe', { request_id: 'l-2' }, ctxFor(p.registry, 'a'));
    while (p.starts.length === 0) await new Promise((r) => setImmediate(r));
    // Even at the redelivery limit (maxAttempts 2): waiting for a lease is not a failure.
    const held = await runAction('probe', { request_id: 'l-2' }, ctxFor(p.registry, 'b', { message: { redelivered: true, attempts: 5, ownCopy: true } }));
    assert.equal(held.settle.kind, 'retry');
    assert.equal(held.status, 'requeued');
    assert.ok(held.settle.kind === 'retry' && held.settle.attempts === 5 && held.settle.delayMs >= 100 && held.settle.delayMs <= 2000, 'handed back to the tail, its attempt count unchanged');
    assert.equal(p.starts.length, 1);
    releaseRun();
    assert.equal((await settled(await running)).settle.kind, 'reply');
  });

  it('after the first lease expired the run starts again as attempt 2, as a repeat, and says so', async () => {
    const p = probe();
    await ledger.claim(key('l-3'), 'dead-agent', 1);
    while ((await ledger.claim(key('l-3'), 'probe-only', 0)).kind === 'held') await new Promise((r) => setTimeout(r, 5));
    // The probe claim above took attempt 2; release it so the agent's claim is the next start.
    const probeRow = await ledger.get(key('l-3'));
    await ledger.release({ key: key('l-3'), owner: 'probe-only', fence: probeRow!.fence, attempt: probeRow!.attempt });
    const r = await settled(await runAction('probe', { request_id: 'l-3' }, ctxFor(p.registry, 'b')));
    assert.equal(envelopeOf(r)?.attempt, 3);
    assert.deepEqual(p.starts, [{ redelivered: true }]);
  });

  it('a reply whose sending was never confirmed is re-sent from the ledger, without running again', async () => {
    const p = probe();
    const first = await runAction('probe', { request_id: 'l-4' }, ctxFor(p.registry, 'a'));
    assert.equal(first.settle.kind, 'reply'); // not settled: the publish "failed", afterSettle never ran
    const again = await runAction('probe', { request_id: 'l-4' }, ctxFor(p.registry, 'a', { message: { redelivered: true } }));
    assert.equal(again.settle.kind, 'reply');
    assert.deepEqual(envelopeOf(again), envelopeOf(first));
    assert.equal(p.starts.length, 1);
    await settled(again);
    assert.deepEqual((await runAction('probe', { request_id: 'l-4' }, ctxFor(p.registry, 'a', { message: { redelivered: true } }))).settle, { kind: 'ack' });
    // A fresh message reusing the id is answered (conflict naming request_id), never left waiting.
    const fresh = await runAction('probe', { request_id: 'l-4' }, ctxFor(p.registry, 'a'));
    assert.equal(fresh.settle.kind, 'park');
    assert.deepEqual([fresh.envelope?.error?.code, fresh.envelope?.error?.field], ['conflict', 'request_id']);
    assert.equal(p.starts.length, 1);
  });

  it('a stored reply that cannot be re-sent is retried with its attempt count, then parked as redelivery_limit (not handed back for ever)', async () => {
    const p = probe();
    await runAction('probe', { request_id: 'l-4b' }, ctxFor(p.registry, 'a')); // its publish "failed": stored, never confirmed
    const again = await runAction('probe', { request_id: 'l-4b' }, ctxFor(p.registry, 'a', { message: { redelivered: true } }));
    assert.equal(again.settle.kind, 'reply');
    const refused = new BosunError('broker_error', 'the response_channel refused the reply', { retryable: true });
    assert.deepEqual(again.onPublishError?.(refused).settle.kind, 'retry');
    assert.equal((again.onPublishError?.(refused).settle as { attempts?: number }).attempts, 1);
    // The retry copy (maxAttempts 2): its re-send refused again, it is parked, answered with redelivery_limit.
    const last = await runAction('probe', { request_id: 'l-4b' }, ctxFor(p.registry, 'a', { message: { ownCopy: true, attempts: 1 } }));
    assert.equal(last.settle.kind, 'reply');
    const parked = last.onPublishError?.(refused);
    assert.equal(parked?.settle.kind, 'park');
    assert.equal(parked?.envelope?.error?.code, 'redelivery_limit');
    assert.equal(p.starts.length, 1, 'never run again');
  });

  it('a holder whose lease was taken over while it ran sends no reply', async () => {
    const p = probe(async () => {
      const row = await ledger.get(key('l-5'));
      // Another agent takes it over: the lease is released and claimed again (as an expiry would).
      await ledger.release({ key: key('l-5'), owner: 'a', fence: row!.fence, attempt: row!.attempt });
      assert.equal((await ledger.claim(key('l-5'), 'b', 60_000)).kind, 'claimed');
    });
    const r = await runAction('probe', { request_id: 'l-5' }, ctxFor(p.registry, 'a'));
    assert.equal(p.starts.length, 1, 'the handler ran');
    assert.deepEqual(r.settle, { kind: 'ack' });
  });

  it('a run that fails and is handed back gives its claim up: the next delivery starts at once as attempt 2', async () => {
    const p = probe(async () => {
      if (p.starts.length === 1) throw new BosunError('timeout', 'transient');
    });
    const r1 = await runAction('probe', { request_id: 'l-6' }, ctxFor(p.registry, 'a'));
    assert.equal(r1.settle.kind, 'retry');
    const r2 = await settled(await runAction('probe', { request_id: 'l-6' }, ctxFor(p.registry, 'b', { message: { attempts: 1, ownCopy: true } })));
    assert.equal(envelopeOf(r2)?.attempt, 2);
    assert.equal(p.starts.length, 2);
  });

  it('the ledger holds only runs with an id: channels that start nothing, and id-less messages, have no row', async () => {
    const p = probe();
    await settled(await runAction('look', { request_id: 'l-7' }, ctxFor(p.registry, 'a')));
    assert.equal(await ledger.get(key('l-7', 'look')), undefined);
    const idless = await settled(await runAction('probe', {}, ctxFor(p.registry, 'a', { message: { publisher: 'alice' } })));
    assert.equal(idless.settle.kind, 'reply');
    assert.equal(await ledger.get(key(idless.requestId)), undefined);
  });

  it('a store outage hands the message back uncounted (never parked for it)', async () => {
    const broken = await openRunLedger('memory:');
    await broken.close();
    const p = probe();
    const ctx = { ...ctxFor(p.registry, 'a', { message: { attempts: 5, ownCopy: true } }), ledger: { ledger: broken, owner: 'a', leaseMs: 1000 } };
    const r = await runAction('probe', { request_id: 'l-8' }, ctx);
    assert.equal(r.settle.kind, 'requeue');
    assert.equal(r.error?.code, 'store_error');
    assert.equal(p.starts.length, 0);
  });
});
