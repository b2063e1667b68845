/**
 * WorkflowStore over SQL: the same statements for embedded PGlite and PostgreSQL. Leases use
 * the database's clock (agents on several hosts agree on it); timers use the executor's
 * clock, the same `now` that `decide` computed their due times from.
 */
import type { Definition } from '../../workflow/definition.js';
import type { Json } from '../../workflow/json.js';
import type { HistoryEvent } from '../../workflow/machine-types.js';
import {
  CONTROL_EVENT_TYPES, isEnded, LeaseLostError, type Committed, type ControlEvent, type DefinitionRecord, type ExecutionLease, type ExecutionRecord, type ExecutionStatus, type InboxEvent,
  type NewExecution, type StoredHistoryEvent, type TenantScope, type TaskRow, type TimerRow, type Transition, type WorkflowStore,
} from '../../ports/workflow-store.js';
import type { WorkflowEvent } from '../../workflow/machine-types.js';
import { openDb, type Row, type SqlDb, type SqlRunner } from './db.js';
import { migrateWorkflowStore } from './workflow-migrations.js';
import { COMMIT_SQL, commitParams, commitRows, NOW_MS } from './workflow-commit.js';


export async function openWorkflowStore(location: string): Promise<SqlWorkflowStore> {
  const store = new SqlWorkflowStore(await openDb(location));
  await store.migrate();
  return store;
}

const num = (v: unknown): number => Number(v);
const opt = <T>(v: unknown, f: (x: unknown) => T): T | undefined => (v === null || v === undefined ? undefined : f(v));

function executionOf(r: Row): ExecutionRecord {
  const out: ExecutionRecord = {
    id: String(r.id), status: String(r.status) as ExecutionStatus, state: (r.state ?? null) as ExecutionRecord['state'],
    fence: num(r.fence), redriveCount: num(r.redrive_count ?? 0), createdAt: num(r.created_at), updatedAt: num(r.updated_at),
  };
  const starter = opt(r.starter, String);
  if (starter !== undefined) out.starter = starter;
  const startKey = opt(r.start_key, String);
  if (startKey !== undefined) out.startKey = startKey;
  const name = opt(r.definition_name, String);
  if (name !== undefined) out.definitionName = name;
  const version = opt(r.definition_version, num);
  if (version !== undefined) out.definitionVersion = version;
  if (r.reply_to !== null && r.reply_to !== undefined) {
    out.replyTo = r.reply_to as Json;
    out.endReplySent = r.reply_sent_fence !== null && r.reply_sent_fence !== undefined && num(r.reply_sent_fence) >= out.fence;
  }
  const owner = opt(r.lease_owner, String);
  if (owner !== undefined) out.leaseOwner = owner;
  const until = opt(r.lease_until, num);
  if (until !== undefined) out.leaseUntil = until;
  return out;
}

function inboxEventOf(executionId: string, r: Row): InboxEvent {
  const out: InboxEvent = { id: num(r.id), executionId, event: r.event as InboxEvent['event'], postedAt: num(r.posted_at) };
  if (r.dedupe_key !== null && r.dedupe_key !== undefined) out.dedupeKey = String(r.dedupe_key);
  return out;
}

/** Another starter's row reads as missing (no existence oracle across publishers). */
const inScope = (r: Row, scope: TenantScope | undefined): boolean => scope === undefined || (r.starter ?? null) === scope.starter;

const timerOf = (r: Row): TimerRow => ({ executionId: String(r.execution_id), token: String(r.token), kind: String(r.kind), dueAt: num(r.due_at) });

export class SqlWorkflowStore implements WorkflowStore {
  readonly kind: 'pglite' | 'postgres';

  constructor(private readonly db: SqlDb) {
    this.kind = db.kind;
  }

  async migrate(): Promise<void> {
    await migrateWorkflowStore(this.db);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  async putDefinition(name: string, definition: Definition, owner?: string): Promise<DefinitionRecord> {
    const o = owner ?? '';
    const rows = await this.db.tx(async (q) => {
      await q.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`wf-def:${JSON.stringify([o, name])}`]);
      return q.query(
        `INSERT INTO wf_definitions (owner, name, version, definition, created_at)
         SELECT $3, $1, coalesce(max(version), 0) + 1, $2, ${NOW_MS} FROM wf_definitions WHERE owner = $3 AND name = $1 RETURNING *`,
        [name, JSON.stringify(definition), o],
      );
    });
    return definitionOf(rows[0]!);
  }

  async getDefinition(name: string, version?: number, owner?: string): Promise<DefinitionRecord | undefined> {
    const o = owner ?? '';
    const rows = version === undefined
      ? await this.db.query('SELECT * FROM wf_definitions WHERE owner = $2 AND name = $1 ORDER BY version DESC LIMIT 1', [name, o])
      : await this.db.query('SELECT * FROM wf_definitions WHERE owner = $3 AND name = $1 AND version = $2', [name, version, o]);
    return rows[0] ? definitionOf(rows[0]) : undefined;
  }

  async createExecution(e: NewExecution): Promise<{ created: boolean; record: ExecutionRecord }> {
    return this.db.tx(async (q) => {
      const inserted = await q.query(
        `INSERT INTO wf_executions (id, definition_name, definition_version, status, reply_to, starter, start_key, created_at, updated_at)
         VALUES ($1, $2, $3, 'RUNNING', $4, $5, $6, ${NOW_MS}, ${NOW_MS}) ON CONFLICT (id) DO NOTHING RETURNING *`,
        [e.id, e.definitionName ?? null, e.definitionVersion ?? null, e.replyTo === undefined ? null : JSON.stringify(e.replyTo), e.starter ?? null, e.startKey ?? null],
      );
      if (!inserted[0]) {
        const existing = await q.query('SELECT * FROM wf_executions WHERE id = $1', [e.id]);
        return { created: false, record: executionOf(existing[0]!) };
      }
      await insertInbox(q, e.id, e.started, 'started');
      return { created: true, record: executionOf(inserted[0]) };
    });
  }

  async getExecution(id: string, scope?: TenantScope): Promise<ExecutionRecord | undefined> {
    const rows = await this.db.query('SELECT * FROM wf_executions WHERE id = $1', [id]);
    return rows[0] && inScope(rows[0], scope) ? executionOf(rows[0]) : undefined;
  }

  async listExecutions(filter: { status?: ExecutionStatus; limit?: number; scope?: TenantScope; before?: { createdAt: number; id: string } } = {}): Promise<ExecutionRecord[]> {
    const rows = await this.db.query(
      `SELECT * FROM wf_executions WHERE ($1::text IS NULL OR status = $1)
         AND (NOT $3 OR starter IS NOT DISTINCT FROM $4::text)
         AND ($5::double precision IS NULL OR created_at < $5 OR (created_at = $5 AND id > $6::text))
       ORDER BY created_at DESC, id LIMIT $2`,
      [filter.status ?? null, filter.limit ?? 100, filter.scope !== undefined, filter.scope?.starter ?? null, filter.before?.createdAt ?? null, filter.before?.id ?? null],
    );
    return rows.map(executionOf);
  }

  async history(id: string, afterSeq = 0, limit?: number): Promise<StoredHistoryEvent[]> {
    const rows = await this.db.query('SELECT * FROM wf_history WHERE execution_id = $1 AND seq > $2 ORDER BY seq LIMIT $3', [id, afterSeq, limit ?? null]);
    return rows.map((r) => {
      const out: StoredHistoryEvent = { seq: num(r.seq), type: String(r.type), at: num(r.at), event: r.event as HistoryEvent };
      if (r.state !== null && r.state !== undefined) out.state = String(r.state);
      if (r.input !== null && r.input !== undefined) out.input = r.input as Json;
      if (r.output !== null && r.output !== undefined) out.output = r.output as Json;
      return out;
    });
  }

  async claimExecutions(owner: string, leaseMs: number, limit: number, opts: { reclaimOwn?: boolean; ids?: string[] } = {}): Promise<ExecutionLease[]> {
    const rows = await this.db.query(
      `UPDATE wf_executions SET lease_owner = $1, lease_until = ${NOW_MS} + $2, fence = fence + 1
       WHERE id IN (
         SELECT id FROM wf_executions
         WHERE (status = 'RUNNING' OR (status = 'PAUSED' AND EXISTS (
                 SELECT 1 FROM wf_inbox i WHERE i.execution_id = wf_executions.id AND i.consumed_at IS NULL AND i.event->>'type' IN ('Cancel', 'Resume'))))
           AND (lease_owner IS NULL OR lease_until < ${NOW_MS} OR ($4 AND lease_owner = $1))
           AND ($5::text[] IS NULL OR id = ANY($5::text[]))
         ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING id, fence`,
      [owner, leaseMs, limit, opts.reclaimOwn === true, opts.ids ?? null],
    );
    return rows.map((r) => ({ executionId: String(r.id), owner, fence: num(r.fence) }));
  }

  async renewLeases(leases: ExecutionLease[], leaseMs: number): Promise<ExecutionLease[]> {
    if (leases.length === 0) return [];
    const rows = await this.db.query(
      `UPDATE wf_executions e SET lease_until = ${NOW_MS} + $2
       FROM json_to_recordset($1) AS l(id text, owner text, fence bigint)
       WHERE e.id = l.id AND e.lease_owner = l.owner AND e.fence = l.fence AND e.lease_until >= ${NOW_MS}
       RETURNING e.id, e.lease_owner, e.fence`,
      [JSON.stringify(leases.map((l) => ({ id: l.executionId, owner: l.owner, fence: l.fence }))), leaseMs],
    );
    const key = (id: unknown, owner: unknown, fence: unknown): string => JSON.stringify([String(id), String(owner), Number(fence)]);
    const kept = new Set(rows.map((r) => key(r.id, r.lease_owner, r.fence)));
    return leases.filter((l) => !kept.has(key(l.executionId, l.owner, l.fence)));
  }

  async releaseLease(lease: ExecutionLease): Promise<void> {
    await this.db.query('UPDATE wf_executions SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2 AND fence = $3', [lease.executionId, lease.owner, lease.fence]);
  }

  async postEvent(executionId: string, event: WorkflowEvent | ControlEvent, dedupeKey?: string): Promise<boolean> {
    const report = event.type === 'TaskSucceeded' || event.type === 'TaskFailed' ? event.token : null;
    const rows = await this.db.prepared('wf_post_event', POST_EVENT_SQL, [executionId, JSON.stringify(event), dedupeKey ?? null, report]);
    return rows.length > 0;
  }

  async nextEvent(executionId: string): Promise<InboxEvent | undefined> {
    const rows = await this.db.prepared('wf_next_event', 'SELECT * FROM wf_inbox WHERE execution_id = $1 AND consumed_at IS NULL ORDER BY id LIMIT 1', [executionId]);
    return rows[0] ? inboxEventOf(executionId, rows[0]) : undefined;
  }

  async nextControlEvent(executionId: string): Promise<InboxEvent | undefined> {
    const rows = await this.db.query(
      `SELECT * FROM wf_inbox WHERE execution_id = $1 AND consumed_at IS NULL AND event->>'type' = ANY($2::text[]) ORDER BY id LIMIT 1`,
      [executionId, CONTROL_EVENT_TYPES],
    );
    return rows[0] ? inboxOf(rows[0]) : undefined;
  }

  requestControl(executionId: string, event: ControlEvent, from: readonly ExecutionStatus[], scope?: TenantScope): Promise<{ record?: ExecutionRecord; posted: boolean }> {
    return this.db.tx(async (q) => {
      const rows = await q.query('SELECT * FROM wf_executions WHERE id = $1 FOR UPDATE', [executionId]);
      if (!rows[0] || !inScope(rows[0], scope)) return { posted: false };
      const current = executionOf(rows[0]);
      if (!from.includes(current.status)) return { record: current, posted: false };
      if (event.type === 'Redrive') {
        // What reached the inbox after the end (late task reports) was never going to be decided.
        await q.query(`UPDATE wf_inbox SET consumed_at = ${NOW_MS} WHERE execution_id = $1 AND consumed_at IS NULL`, [executionId]);
        await q.query(`UPDATE wf_executions SET status = 'RUNNING', redrive_count = redrive_count + 1, updated_at = ${NOW_MS} WHERE id = $1`, [executionId]);
      }
      await insertInbox(q, executionId, event);
      const after = await q.query('SELECT * FROM wf_executions WHERE id = $1', [executionId]);
      return { record: executionOf(after[0]!), posted: true };
    });
  }

  async dueTimers(owner: string, now: number, limit: number): Promise<TimerRow[]> {
    const rows = await this.db.query(
      `SELECT t.* FROM wf_timers t JOIN wf_executions e ON e.id = t.execution_id
       WHERE e.lease_owner = $1 AND e.lease_until >= ${NOW_MS} AND t.due_at <= $2 ORDER BY t.due_at, t.token LIMIT $3`,
      [owner, now, limit],
    );
    return rows.map(timerOf);
  }

  async nextTimer(owner: string): Promise<TimerRow | undefined> {
    const rows = await this.db.query(
      `SELECT t.* FROM wf_timers t JOIN wf_executions e ON e.id = t.execution_id
       WHERE e.lease_owner = $1 ORDER BY t.due_at LIMIT 1`,
      [owner],
    );
    return rows[0] ? timerOf(rows[0]) : undefined;
  }

  async openTasks(executionId: string): Promise<TaskRow[]> {
    const rows = await this.db.query(`SELECT * FROM wf_tasks WHERE execution_id = $1 AND status IN ('scheduled', 'dispatched') ORDER BY scheduled_at, token`, [executionId]);
    return rows.map((r) => ({
      executionId, token: String(r.token), command: r.command as TaskRow['command'], status: String(r.status) as TaskRow['status'], scheduledAt: num(r.scheduled_at),
    }));
  }

  async markDispatched(executionId: string, token: string): Promise<boolean> {
    const rows = await this.db.query(`UPDATE wf_tasks SET status = 'dispatched' WHERE execution_id = $1 AND token = $2 AND status = 'scheduled' RETURNING token`, [executionId, token]);
    return rows.length > 0;
  }

  async commit(lease: ExecutionLease, t: Transition): Promise<Committed> {
    const rows = await this.db.prepared('wf_commit', COMMIT_SQL, commitParams(lease, t, commitRows(t)));
    if (num(rows[0]?.held) !== 1) throw new LeaseLostError(lease);
    const next = rows[0]?.next;
    return { next: next ? inboxEventOf(lease.executionId, (typeof next === 'string' ? JSON.parse(next) : next) as Row) : undefined };
  }

  async claimEndReplies(claimMs: number, limit: number, ids?: string[]): Promise<ExecutionRecord[]> {
    const rows = await this.db.query(
      `UPDATE wf_executions SET reply_claim_until = ${NOW_MS} + $1
       WHERE id IN (
         SELECT id FROM wf_executions
         WHERE reply_to IS NOT NULL AND status IN ('SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED')
           AND (reply_sent_fence IS NULL OR reply_sent_fence < fence)
           AND (reply_claim_until IS NULL OR reply_claim_until < ${NOW_MS})
           AND ($3::text[] IS NULL OR id = ANY($3::text[]))
         ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [claimMs, limit, ids ?? null],
    );
    return rows.map(executionOf);
  }

  async markEndReplySent(executionId: string, fence: number): Promise<void> {
    await this.db.query('UPDATE wf_executions SET reply_sent_fence = $2, reply_claim_until = NULL WHERE id = $1', [executionId, fence]);
  }
}

function inboxOf(r: Row): InboxEvent {
  const out: InboxEvent = { id: num(r.id), executionId: String(r.execution_id), event: r.event as InboxEvent['event'], postedAt: num(r.posted_at) };
  if (r.dedupe_key !== null && r.dedupe_key !== undefined) out.dedupeKey = String(r.dedupe_key);
  return out;
}

function definitionOf(r: Row): DefinitionRecord {
  return { name: String(r.name), version: num(r.version), definition: r.definition as Definition, createdAt: num(r.created_at) };
}

/** An inbox event and, for a task report, its task marked reported — one statement. $4: the reported token, or null. */
const POST_EVENT_SQL = `
WITH posted AS (
  INSERT INTO wf_inbox (execution_id, event, dedupe_key, posted_at) VALUES ($1, $2::json, $3, ${NOW_MS})
  ON CONFLICT (execution_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING RETURNING id
), reported AS (
  UPDATE wf_tasks SET status = 'reported'
  WHERE execution_id = $1 AND token = $4 AND status IN ('scheduled', 'dispatched') AND EXISTS (SELECT 1 FROM posted)
)
SELECT id FROM posted`;

async function insertInbox(q: SqlRunner, executionId: string, event: WorkflowEvent | ControlEvent, dedupeKey?: string): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO wf_inbox (execution_id, event, dedupe_key, posted_at) VALUES ($1, $2, $3, ${NOW_MS})
     ON CONFLICT (execution_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING RETURNING id`,
    [executionId, JSON.stringify(event), dedupeKey ?? null],
  );
  return rows.length > 0;
}
