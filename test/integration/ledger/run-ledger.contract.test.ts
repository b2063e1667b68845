/**
 * The RunLedger contract, on embedded PGlite and on PostgreSQL (own database per run): claim,
 * held while the lease lives, renew, expiry → attempt 2, fencing of a stale holder, finish →
 * done, the resend of replies never confirmed, release, scoping, prune.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openRunLedger, MAX_STORED_REPLY_BYTES, type SqlRunLedger } from '../../../src/adapters/store-sql/run-ledger.js';
import type { ClaimResult, RunKey, RunLease } from '../../../src/ports/run-ledger.js';
import { BACKENDS, storeLocation } from '../workflow/stores.js';

const key = (requestId: string, over: Partial<RunKey> = {}): RunKey => ({ channel: 'start_container.run', publisher: 'alice', requestId, ...over });
const reply = { channel: 'bosun.reply.x', body: '{"ok":true}', correlationId: 'c1' };

function leaseOf(r: ClaimResult): RunLease {
  assert.ok(r.kind === 'claimed' || r.kind === 'unsent', `expected a lease, got ${JSON.stringify(r)}`);
  return r.lease;
}

/** Claims until the lease of another has expired (the store's clock decides, not ours). */
async function claimAfterExpiry(ledger: SqlRunLedger, k: RunKey, owner: string): Promise<ClaimResult> {
  for (let i = 0; i < 2000; i++) {
    const r = await ledger.claim(k, owner, 10_000);
    if (r.kind !== 'held') return r;
    await new Promise((res) => setTimeout(res, Math.min(20, r.remainingMs + 1)));
  }
  assert.fail('the lease never expired');
}

for (const backend of BACKENDS) {
  describe(`run ledger on ${backend}`, () => {
    let ledger: SqlRunLedger;
    let drop: () => Promise<void>;
    before(async () => {
      const loc = await storeLocation(backend);
      drop = loc.drop;
      ledger = await openRunLedger(loc.url);
    });
    after(async () => {
      await ledger.close();
      await drop();
    });

    test('the first claim wins; a second agent is told who holds it and for how long', async () => {
      const a = await ledger.claim(key('r1'), 'agent-a', 60_000);
      assert.equal(a.kind, 'claimed');
      assert.equal(leaseOf(a).attempt, 1);
      const b = await ledger.claim(key('r1'), 'agent-b', 60_000);
      assert.equal(b.kind, 'held');
      if (b.kind !== 'held') return;
      assert.equal(b.heldBy, 'agent-a');
      assert.equal(b.attempt, 1);
      assert.ok(b.remainingMs > 50_000 && b.remainingMs <= 60_000, `remaining ${b.remainingMs}`);
      // Not even its own holder starts it twice while the run goes on.
      assert.equal((await ledger.claim(key('r1'), 'agent-a', 60_000)).kind, 'held');
      const row = await ledger.get(key('r1'));
      assert.equal(row?.status, 'running');
      assert.equal(row?.holder, 'agent-a');
    });

    test('the same id from another publisher or on another channel is another run', async () => {
      await ledger.claim(key('r2'), 'agent-a', 60_000);
      assert.equal((await ledger.claim(key('r2', { publisher: 'bob' }), 'agent-b', 60_000)).kind, 'claimed');
      assert.equal((await ledger.claim(key('r2', { channel: 'start_container.create' }), 'agent-b', 60_000)).kind, 'claimed');
    });

    test('renew keeps a lease alive; an expired lease is claimed as attempt 2 and fences out the first holder', async () => {
      const a = leaseOf(await ledger.claim(key('r3'), 'agent-a', 300));
      assert.equal(await ledger.renew(a, 300), true);
      const b = await claimAfterExpiry(ledger, key('r3'), 'agent-b');
      assert.equal(b.kind, 'claimed');
      const lb = leaseOf(b);
      assert.equal(lb.attempt, 2);
      assert.ok(lb.fence > a.fence);
      // The first holder, back: it can neither renew nor finish nor release.
      assert.equal(await ledger.renew(a, 60_000), false);
      assert.equal(await ledger.finish(a, [reply]), false);
      await ledger.release(a);
      await ledger.confirm(a);
      const row = await ledger.get(key('r3'));
      assert.deepEqual([row?.status, row?.holder, row?.attempt, row?.confirmed], ['running', 'agent-b', 2, false]);
      assert.equal(await ledger.finish(lb, [reply]), true);
    });

    test('finish then confirm: a later claim finds it done, with no reply owed', async () => {
      const a = leaseOf(await ledger.claim(key('r4'), 'agent-a', 60_000));
      assert.equal(await ledger.finish(a, [reply]), true);
      // Finished but not yet confirmed, and its holder's lease lives: the holder may be publishing now.
      assert.equal((await ledger.claim(key('r4'), 'agent-b', 60_000)).kind, 'held');
      await ledger.confirm(a);
      const again = await ledger.claim(key('r4'), 'agent-b', 60_000);
      assert.deepEqual(again, { kind: 'done', attempt: 1 });
      const row = await ledger.get(key('r4'));
      assert.deepEqual([row?.status, row?.confirmed, row?.holder, row?.leaseUntil], ['done', true, 'agent-a', undefined]);
      assert.deepEqual(row?.replies, [reply]);
    });

    test('a reply never confirmed is handed, once, to the next claimer after the lease', async () => {
      const a = leaseOf(await ledger.claim(key('r5'), 'agent-a', 200));
      await ledger.finish(a, [reply]);
      const b = await claimAfterExpiry(ledger, key('r5'), 'agent-b');
      assert.equal(b.kind, 'unsent');
      if (b.kind !== 'unsent') return;
      assert.deepEqual(b.replies, [reply]);
      assert.equal(b.lease.attempt, 1, 'a resend is not a new attempt');
      // While b resends, a third agent waits; once b confirms, nothing is owed.
      assert.equal((await ledger.claim(key('r5'), 'agent-c', 60_000)).kind, 'held');
      await ledger.confirm(b.lease);
      assert.equal((await ledger.claim(key('r5'), 'agent-c', 60_000)).kind, 'done');
    });

    test('its own holder takes back its unconfirmed replies at once (a reply that failed to publish)', async () => {
      const a = leaseOf(await ledger.claim(key('r6'), 'agent-a', 60_000));
      await ledger.finish(a, [reply]);
      const again = await ledger.claim(key('r6'), 'agent-a', 60_000);
      assert.equal(again.kind, 'unsent');
    });

    test('release hands a running claim to the next claimer at once, as a new attempt', async () => {
      const a = leaseOf(await ledger.claim(key('r7'), 'agent-a', 60_000));
      await ledger.release(a);
      const b = await ledger.claim(key('r7'), 'agent-b', 60_000);
      assert.equal(b.kind, 'claimed');
      assert.equal(leaseOf(b).attempt, 2);
    });

    test('replies above the size limit are not kept', async () => {
      const a = leaseOf(await ledger.claim(key('r8'), 'agent-a', 100));
      assert.equal(await ledger.finish(a, [{ channel: 'c', body: 'x'.repeat(MAX_STORED_REPLY_BYTES + 1) }]), true);
      const b = await claimAfterExpiry(ledger, key('r8'), 'agent-b');
      assert.deepEqual(b.kind === 'unsent' ? b.replies : 'not unsent', null);
    });

    test('prune forgets finished runs only', async () => {
      const a = leaseOf(await ledger.claim(key('r9'), 'agent-a', 60_000));
      await ledger.finish(a, [reply]);
      await ledger.confirm(a);
      leaseOf(await ledger.claim(key('r10'), 'agent-a', 60_000));
      assert.ok((await ledger.prune(-60_000)) >= 1);
      assert.equal(await ledger.get(key('r9')), undefined);
      assert.equal((await ledger.get(key('r10')))?.status, 'running');
    });

    test('concurrent claims of one id: exactly one wins', async () => {
      const results = await Promise.all(['a', 'b', 'c', 'd'].map((o) => ledger.claim(key('r11'), o, 60_000)));
      assert.equal(results.filter((r) => r.kind === 'claimed').length, 1);
      assert.equal(results.filter((r) => r.kind === 'held').length, 3);
    });
  });
}
