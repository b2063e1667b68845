/**
 * A workflow commit as one SQL statement: the fenced update of the execution row, its history
 * events, timers, tasks and the consumed event, in data-modifying CTEs that write only when the
 * fence held. One statement is one round trip and is atomic on its own; its text never changes,
 * so PostgreSQL parses and plans it once per connection (a named prepared statement). It also
 * returns the next unconsumed inbox event, which the executor would otherwise read next.
 *
 * The CTEs of one statement all read the snapshot taken before it, so none sees another's
 * rows: `commitRows` first nets out what one decision both makes and undoes (a timer started
 * and cancelled, a task scheduled and cancelled, anything started by a terminal transition).
 */
import { isEnded, type ExecutionLease, type Transition } from '../../ports/workflow-store.js';
import type { HistoryEvent } from '../../workflow/machine-types.js';

/** The database's clock in epoch milliseconds. */
export const NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)';

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));

export interface HistoryRow { seq: number; type: string; state: string | null; input: string | null; output: string | null; at: number; event: string }
export interface TimerInsert { token: string; kind: string; due_at: number }
export interface TaskInsert { token: string; command: string; status: 'scheduled' | 'cancelled' }

/** What one transition writes, with each token touched by at most one of the statement's parts. */
export interface CommitRows {
  terminal: boolean;
  history: HistoryRow[];
  /** Timers to delete (cancelled, or the one this transition consumed); all of them when terminal. */
  dropTimers: string[];
  timers: TimerInsert[];
  tasks: TaskInsert[];
  /** Earlier tasks to mark cancelled; all open ones when terminal. */
  cancelTasks: string[];
  consumedInbox: number | null;
}

export function historyRows(before: number, history: HistoryEvent[]): HistoryRow[] {
  return history.map((h, i) => ({
    seq: before + i + 1, type: h.type, state: str(h.state), input: json(h.input), output: json(h.output),
    at: Date.parse(h.timestamp), event: JSON.stringify(h),
  }));
}

/** Pure: the transition's net rows. */
export function commitRows(t: Transition): CommitRows {
  const terminal = isEnded(t.status);
  const started = new Map<string, TimerInsert>();
  const dropTimers = new Set<string>();
  const scheduled = new Map<string, TaskInsert>();
  const cancelTasks = new Set<string>();
  for (const c of t.commands) {
    if (c.type === 'StartTimer') { started.set(c.token, { token: c.token, kind: c.token.slice(0, 1), due_at: Date.parse(c.at) }); dropTimers.delete(c.token); }
    else if (c.type === 'CancelTimer') { if (!started.delete(c.token)) dropTimers.add(c.token); }
    else if (c.type === 'ScheduleTask') scheduled.set(c.token, { token: c.token, command: JSON.stringify(c), status: 'scheduled' });
    else if (c.type === 'CancelTask') {
      const fresh = scheduled.get(c.token);
      if (fresh) fresh.status = 'cancelled';
      else cancelTasks.add(c.token);
    }
  }
  if (t.consumed && 'timer' in t.consumed && !started.has(t.consumed.timer)) dropTimers.add(t.consumed.timer);
  // A terminal commit deletes every timer and cancels every open task of the execution.
  const tasks = [...scheduled.values()].map((x) => (terminal ? { ...x, status: 'cancelled' as const } : x));
  return {
    terminal,
    history: historyRows(t.state.historyLength - t.history.length, t.history),
    dropTimers: terminal ? [] : [...dropTimers],
    timers: terminal ? [] : [...started.values()],
    tasks,
    cancelTasks: terminal ? [] : [...cancelTasks],
    consumedInbox: t.consumed && 'inbox' in t.consumed ? t.consumed.inbox : null,
  };
}

const HELD = 'EXISTS (SELECT 1 FROM held)';

/** $1 id, $2 owner, $3 fence, $4 state, $5 status, $6 terminal, $7 history, $8 timers to drop, $9 timers, $10 tasks, $11 tasks to cancel, $12 inbox id. */
export const COMMIT_SQL = `
WITH held AS (
  UPDATE wf_executions SET state = $4::json, status = $5, updated_at = ${NOW_MS},
    lease_owner = CASE WHEN $6::boolean THEN NULL ELSE lease_owner END,
    lease_until = CASE WHEN $6::boolean THEN NULL ELSE lease_until END
  WHERE id = $1 AND lease_owner = $2 AND fence = $3 AND lease_until >= ${NOW_MS}
  RETURNING id
), history AS (
  INSERT INTO wf_history (execution_id, seq, type, state, input, output, at, event)
  SELECT $1, r.seq, r.type, r.state, r.input::json, r.output::json, r.at, r.event::json
  FROM json_to_recordset($7::json) AS r(seq integer, type text, state text, input text, output text, at double precision, event text)
  WHERE ${HELD}
), timers_dropped AS (
  DELETE FROM wf_timers WHERE execution_id = $1 AND ($6::boolean OR token = ANY($8::text[])) AND ${HELD}
), timers_started AS (
  INSERT INTO wf_timers (execution_id, token, kind, due_at)
  SELECT $1, r.token, r.kind, r.due_at FROM json_to_recordset($9::json) AS r(token text, kind text, due_at double precision)
  WHERE ${HELD}
  ON CONFLICT (execution_id, token) DO UPDATE SET due_at = EXCLUDED.due_at
), tasks_scheduled AS (
  INSERT INTO wf_tasks (execution_id, token, command, status, scheduled_at)
  SELECT $1, r.token, r.command::json, r.status, ${NOW_MS} FROM json_to_recordset($10::json) AS r(token text, command text, status text)
  WHERE ${HELD}
  ON CONFLICT (execution_id, token) DO NOTHING
), tasks_cancelled AS (
  UPDATE wf_tasks SET status = 'cancelled'
  WHERE execution_id = $1 AND status IN ('scheduled', 'dispatched') AND ($6::boolean OR token = ANY($11::text[])) AND ${HELD}
), consumed AS (
  UPDATE wf_inbox SET consumed_at = ${NOW_MS} WHERE id = $12::bigint AND execution_id = $1 AND ${HELD}
)
SELECT (SELECT count(*)::integer FROM held) AS held,
  (SELECT row_to_json(n) FROM (
     SELECT id, event, dedupe_key, posted_at FROM wf_inbox
     WHERE execution_id = $1 AND consumed_at IS NULL AND id IS DISTINCT FROM $12::bigint ORDER BY id LIMIT 1) n) AS next`;

export function commitParams(lease: ExecutionLease, t: Transition, rows: CommitRows): unknown[] {
  return [
    lease.executionId, lease.owner, lease.fence, JSON.stringify(t.state), t.status, rows.terminal,
    JSON.stringify(rows.history), rows.dropTimers, JSON.stringify(rows.timers), JSON.stringify(rows.tasks), rows.cancelTasks, rows.consumedInbox,
  ];
}
