/**
 * The parts of a workflow commit that turn the machine's output into rows: history events
 * (numbered after the ones already stored) and the commands (timers, tasks) — batched through
 * json_to_recordset so a transition is a handful of statements whatever its size.
 */
import type { Command, HistoryEvent } from '../../workflow/machine-types.js';
import type { SqlRunner } from './db.js';

/** The database's clock in epoch milliseconds. */
export const NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)';

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));

export async function insertHistory(q: SqlRunner, executionId: string, before: number, history: HistoryEvent[]): Promise<void> {
  if (history.length === 0) return;
  const rows = history.map((h, i) => ({
    seq: before + i + 1, type: h.type, state: str(h.state), input: json(h.input), output: json(h.output),
    at: Date.parse(h.timestamp), event: JSON.stringify(h),
  }));
  await q.query(
    `INSERT INTO wf_history (execution_id, seq, type, state, input, output, at, event)
     SELECT $1, r.seq, r.type, r.state, r.input::json, r.output::json, r.at, r.event::json
     FROM json_to_recordset($2) AS r(seq integer, type text, state text, input text, output text, at double precision, event text)`,
    [executionId, JSON.stringify(rows)],
  );
}

export async function applyCommands(q: SqlRunner, executionId: string, commands: Command[], terminal: boolean): Promise<void> {
  const timers: { token: string; kind: string; due_at: number }[] = [];
  const cancelTimers: string[] = [];
  const tasks: { token: string; command: string }[] = [];
  const cancelTasks: string[] = [];
  for (const c of commands) {
    if (c.type === 'StartTimer') timers.push({ token: c.token, kind: c.token.slice(0, 1), due_at: Date.parse(c.at) });
    else if (c.type === 'CancelTimer') cancelTimers.push(c.token);
    else if (c.type === 'ScheduleTask') tasks.push({ token: c.token, command: JSON.stringify(c) });
    else if (c.type === 'CancelTask') cancelTasks.push(c.token);
  }
  if (cancelTimers.length) await q.query('DELETE FROM wf_timers WHERE execution_id = $1 AND token = ANY($2::text[])', [executionId, cancelTimers]);
  if (timers.length) {
    await q.query(
      `INSERT INTO wf_timers (execution_id, token, kind, due_at)
       SELECT $1, r.token, r.kind, r.due_at FROM json_to_recordset($2) AS r(token text, kind text, due_at double precision)
       ON CONFLICT (execution_id, token) DO UPDATE SET due_at = EXCLUDED.due_at`,
      [executionId, JSON.stringify(timers)],
    );
  }
  if (tasks.length) {
    await q.query(
      `INSERT INTO wf_tasks (execution_id, token, command, status, scheduled_at)
       SELECT $1, r.token, r.command::json, 'scheduled', ${NOW_MS} FROM json_to_recordset($2) AS r(token text, command text)
       ON CONFLICT (execution_id, token) DO NOTHING`,
      [executionId, JSON.stringify(tasks)],
    );
  }
  if (cancelTasks.length) {
    await q.query(`UPDATE wf_tasks SET status = 'cancelled' WHERE execution_id = $1 AND token = ANY($2::text[]) AND status IN ('scheduled', 'dispatched')`, [executionId, cancelTasks]);
  }
  if (terminal) {
    await q.query('DELETE FROM wf_timers WHERE execution_id = $1', [executionId]);
    await q.query(`UPDATE wf_tasks SET status = 'cancelled' WHERE execution_id = $1 AND status IN ('scheduled', 'dispatched')`, [executionId]);
  }
}
