/**
 * Review #1 reproductions on the run ledger (pipeline step, real in-memory PGlite ledger).
 * Each test asserts the behaviour a caller needs (they failed before the fixes).
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
import type { RunLedger } from '../../../src/ports/run-ledger.js';
import type { MessageFacts, RunResult } from '../../../src/pipeline/context.js';
import { RunQuotas } from '../../../src/pipeline/quotas.js';
import { runAction } from '../../../src/pipeline/run-action.js';
import { silentLogger } from '../../../src/util/log.js';
import { fakeEngine } from '../../helpers/fake-engine.js';

let ledger: SqlRunLedger;
before(async () => (ledger = await openRunLedger('memory:')));
after(async () => ledger.close());

function probe(behave: (ctx: ActionContext, n: number) => Promise<void> = async () => undefined) {
  const starts: { command: unknown; signal: AbortSignal }[] = [];
  const schema = z.strictObject({ request_id: z.string().optional(), command: z.string().optional() });
  const registry = registryOf([
    defineAction({ channel: 'probe', description: 'test', schema, runKindOf: () => 'attached', handle: async (i, ctx) => {
      starts.push({ command: i.command, signal: ctx.signal });
      await behave(ctx, starts.length);
      return { reply: { result: { ran: i.command ?? null } } };
    } }),
  ]);
  return { registry, starts };
}

function ctxFor(registry: ReturnType<typeof probe>['registry'], owner: string, o: { leaseMs?: number; message?: MessageFacts; ledger?: RunLedger } = {}) {
  const engine = fakeEngine();
  let t = 1_000;
  const clock = { now: () => (t += 5) };
  return {
    registry, engine, policy: DEFAULT_POLICY, clock, log: silentLogger, quotas: new RunQuotas(engine, clock.now),
    publish: async () => undefined, signal: new AbortController().signal, maxAttempts: 5,
    ledger: { ledger: o.ledger ?? ledger, owner, leaseMs: o.leaseMs ?? 60_000 },
    message: { replyTo: 'bosun.reply.t', ...o.message },
  };
}

async function settled(r: RunResult): Promise<RunResult> {
  if (r.settle.kind === 'reply') await r.afterSettle?.();
  return r;
}
const envelopeOf = (r: RunResult) => (r.settle.kind === 'reply' ? JSON.parse(r.settle.replies[0]!.body) as Record<string, unknown> : undefined);

describe('review-1: run ledger', () => {
  it('F-L1 a fresh message reusing a done request id (another body, another sender when no users policy) gets an answer, not silence', async () => {
    const p = probe();
    // mallory (no users policy: publisher '' for everyone) takes alice's predictable id first
    await settled(await runAction('probe', { request_id: 'deploy-42', command: 'mallory' }, ctxFor(p.registry, 'a')));
    // alice's own, first-time message (not a redelivery) with the same id and another body
    const alice = await runAction('probe', { request_id: 'deploy-42', command: 'alice' }, ctxFor(p.registry, 'b', { message: { replyTo: 'bosun.reply.alice' } }));
    assert.equal(p.starts.length, 1, 'alice\'s command never ran');
    // What a caller needs: some reply (the stored one, or a conflict naming request_id). Today: a bare ack.
    assert.notDeepEqual(alice.settle, { kind: 'ack' }, 'alice\'s fresh message was acked with no reply at all: `bosun send --wait` hangs, for 24 h (retention)');
  });

  it('F-L2 a lease whose renewals fail is known lost once it has expired, and the run is told (signal)', async () => {
    const failing: RunLedger = Object.assign(Object.create(ledger) as RunLedger, {
      renew: async () => { throw new BosunError('store_error', 'connection refused', { retryable: true }); },
    });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const p = probe(() => gate);
    const running = runAction('probe', { request_id: 'renew-1' }, ctxFor(p.registry, 'a', { leaseMs: 150, ledger: failing }));
    while (p.starts.length === 0) await new Promise((r) => setImmediate(r));
    // Another agent (the store is fine for it) claims once the lease ran out: attempt 2 starts.
    let second;
    while ((second = await ledger.claim({ channel: 'probe', publisher: '', requestId: 'renew-1' }, 'b', 60_000)).kind === 'held') await new Promise((r) => setTimeout(r, 20));
    assert.equal(second.kind, 'claimed');
    const firstSignal = p.starts[0]!.signal;
    // Agent a's renewals keep failing past its lease: it must learn it lost the lease and stop its run.
    const deadline = Date.now() + 10_000;
    while (!firstSignal.aborted && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    release();
    const r = await running;
    assert.equal(firstSignal.aborted, true, 'agent a kept running a request that agent b now runs as attempt 2 (renewal errors never count as lost)');
    assert.notEqual(r.settle.kind, 'reply', 'a holder that lost its lease sends no reply');
  });

  it('F-L3 a retry on the same agent counts as the request\'s second start (README: attempt counts starts)', async () => {
    const p = probe(async (_c, n) => { if (n === 1) throw new BosunError('engine_error', 'transient', { retryable: true }); });
    const first = await runAction('probe', { request_id: 'retry-1' }, ctxFor(p.registry, 'a'));
    assert.equal(first.settle.kind, 'retry');
    const second = await settled(await runAction('probe', { request_id: 'retry-1' }, ctxFor(p.registry, 'a', { message: { ownCopy: true, attempts: 1 } })));
    assert.equal(envelopeOf(second)?.attempt, 2, `same agent retry reported as attempt ${String(envelopeOf(second)?.attempt)}`);
  });
});
