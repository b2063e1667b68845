/**
 * RunLedger over SQL (embedded PGlite or a shared PostgreSQL). A claim is one transaction:
 * insert the row, or lock the existing one and decide (run-ledger-claim.ts). Every write after
 * a claim is fenced: it changes nothing once another claim has bumped the fence.
 */
import type { ClaimResult, RunKey, RunLease, RunLedger, RunRecord, StoredReply } from '../../ports/run-ledger.js';
import { openDb, type Row, type SqlDb } from './db.js';
import { decideClaim } from './run-ledger-claim.js';
import { migrateRunLedger } from './run-ledger-migrations.js';
import { NOW_MS } from './workflow-commit.js';

/** Replies larger than this (the sum of their bodies) are not kept: a lost one is then not re-sent. */
export const MAX_STORED_REPLY_BYTES = 1024 * 1024;

const KEY = 'channel = $1 AND publisher = $2 AND request_id = $3';
const keyParams = (k: RunKey): unknown[] => [k.channel, k.publisher, k.requestId];
const num = (v: unknown): number => Number(v);

export async function openRunLedger(location: string): Promise<SqlRunLedger> {
  return SqlRunLedger.on(await openDb(location), true);
}

export class SqlRunLedger implements RunLedger {
  readonly kind: 'pglite' | 'postgres';

  private constructor(private readonly db: SqlDb, private readonly ownsDb: boolean) {
    this.kind = db.kind;
  }

  /** A ledger on an open database (shared with other stores when ownsDb is false: close() leaves it open). */
  static async on(db: SqlDb, ownsDb = false): Promise<SqlRunLedger> {
    await migrateRunLedger(db);
    return new SqlRunLedger(db, ownsDb);
  }

  async close(): Promise<void> {
    if (this.ownsDb) await this.db.close();
  }

  claim(key: RunKey, owner: string, leaseMs: number): Promise<ClaimResult> {
    return this.db.tx(async (q) => {
      const inserted = await q.query(
        `INSERT INTO run_ledger (channel, publisher, request_id, status, holder, lease_until, fence, attempt, created_at, updated_at)
         VALUES ($1, $2, $3, 'running', $4, ${NOW_MS} + $5, 1, 1, ${NOW_MS}, ${NOW_MS})
         ON CONFLICT (channel, publisher, request_id) DO NOTHING RETURNING fence`,
        [...keyParams(key), owner, leaseMs],
      );
      if (inserted[0]) return { kind: 'claimed', lease: { key, owner, fence: num(inserted[0].fence), attempt: 1 } };
      const [row] = await q.query(`SELECT *, ${NOW_MS} AS now FROM run_ledger WHERE ${KEY} FOR UPDATE`, keyParams(key));
      const view = {
        status: String(row!.status) as 'running' | 'done',
        holder: row!.holder === null ? null : String(row!.holder),
        leaseUntil: row!.lease_until === null ? null : num(row!.lease_until),
        confirmed: row!.confirmed === true,
        attempt: num(row!.attempt),
      };
      const d = decideClaim(view, owner, num(row!.now));
      if (d.kind === 'done') return { kind: 'done', attempt: view.attempt };
      if (d.kind === 'held') return { kind: 'held', heldBy: d.heldBy, attempt: view.attempt, remainingMs: Math.max(0, d.remainingMs) };
      const [taken] = await q.query(
        `UPDATE run_ledger SET holder = $4, lease_until = ${NOW_MS} + $5, fence = fence + 1, attempt = attempt + $6, updated_at = ${NOW_MS}
         WHERE ${KEY} RETURNING fence, attempt, replies`,
        [...keyParams(key), owner, leaseMs, d.newAttempt ? 1 : 0],
      );
      const lease = { key, owner, fence: num(taken!.fence), attempt: num(taken!.attempt) };
      if (d.newAttempt) return { kind: 'claimed', lease, ...(view.holder !== null ? { previousHolder: view.holder } : {}) };
      return { kind: 'unsent', lease, replies: (taken!.replies ?? null) as StoredReply[] | null };
    });
  }

  async renew(lease: RunLease, leaseMs: number): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE run_ledger SET lease_until = ${NOW_MS} + $6 WHERE ${KEY} AND holder = $4 AND fence = $5 RETURNING fence`,
      [...keyParams(lease.key), lease.owner, lease.fence, leaseMs],
    );
    return rows.length > 0;
  }

  async finish(lease: RunLease, replies: StoredReply[]): Promise<boolean> {
    const size = replies.reduce((n, r) => n + Buffer.byteLength(r.body), 0);
    const rows = await this.db.query(
      `UPDATE run_ledger SET status = 'done', replies = $6, updated_at = ${NOW_MS}
       WHERE ${KEY} AND holder = $4 AND fence = $5 RETURNING fence`,
      [...keyParams(lease.key), lease.owner, lease.fence, size > MAX_STORED_REPLY_BYTES ? null : JSON.stringify(replies)],
    );
    return rows.length > 0;
  }

  async confirm(lease: RunLease): Promise<void> {
    await this.db.query(
      `UPDATE run_ledger SET confirmed = true, lease_until = NULL, updated_at = ${NOW_MS}
       WHERE ${KEY} AND holder = $4 AND fence = $5 AND status = 'done'`,
      [...keyParams(lease.key), lease.owner, lease.fence],
    );
  }

  async release(lease: RunLease): Promise<void> {
    await this.db.query(
      `UPDATE run_ledger SET lease_until = NULL, updated_at = ${NOW_MS}
       WHERE ${KEY} AND holder = $4 AND fence = $5 AND status = 'running'`,
      [...keyParams(lease.key), lease.owner, lease.fence],
    );
  }

  async get(key: RunKey): Promise<RunRecord | undefined> {
    const [r] = await this.db.query(`SELECT * FROM run_ledger WHERE ${KEY}`, keyParams(key));
    return r ? recordOf(key, r) : undefined;
  }

  async prune(olderThanMs: number): Promise<number> {
    const rows = await this.db.query(`DELETE FROM run_ledger WHERE status = 'done' AND updated_at < ${NOW_MS} - $1 RETURNING request_id`, [olderThanMs]);
    return rows.length;
  }
}

function recordOf(key: RunKey, r: Row): RunRecord {
  return {
    key,
    status: String(r.status) as RunRecord['status'],
    ...(r.holder !== null ? { holder: String(r.holder) } : {}),
    ...(r.lease_until !== null ? { leaseUntil: num(r.lease_until) } : {}),
    fence: num(r.fence),
    attempt: num(r.attempt),
    replies: (r.replies ?? null) as StoredReply[] | null,
    confirmed: r.confirmed === true,
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}
