/**
 * workflow.status, workflow.history and workflow.list: read-only views of the store.
 */
import { z } from 'zod';
import type { StoredHistoryEvent } from '../../ports/workflow-store.js';
import type { Json } from '../../workflow/json.js';
import { parseTaskToken } from '../../workflow/task-token.js';
import type { ActionDefinition } from '../types.js';
import { common, executionIdField, executionView, mustGetExecution, scopeOf } from './fields.js';
import type { WorkflowActionDeps } from './index.js';

const statusSchema = z.strictObject({ ...common, execution_id: executionIdField });

export function workflowStatus(d: WorkflowActionDeps): ActionDefinition<typeof statusSchema> {
  return {
    channel: 'workflow.status',
    description: 'Reply with an execution: status, input, output or error and cause, current states, timestamps.',
    schema: statusSchema,
    replyChannelOf: (i) => i.response_channel,
    async handle(input, ctx) {
      return { reply: { result: executionView(await mustGetExecution(d.store, input.execution_id, scopeOf(d.perPublisher, ctx.publisher))) } };
    },
  };
}

export const HISTORY_PAGE_MAX = 1_000;
/** A page stops before the event that would take its events past this many bytes of JSON (one event always goes). */
export const HISTORY_PAGE_BYTES = 4 * 1024 * 1024;
const historySchema = z.strictObject({
  ...common,
  execution_id: executionIdField,
  after_seq: z.int().nonnegative('expected a history sequence number (0 or more)').optional(),
  limit: z.int().min(1, 'expected 1 or more').max(HISTORY_PAGE_MAX, `expected at most ${HISTORY_PAGE_MAX}`).default(100),
});

export function workflowHistory(d: WorkflowActionDeps): ActionDefinition<typeof historySchema> {
  return {
    channel: 'workflow.history',
    description: `Reply with an execution's history events after after_seq (at most limit, default 100, up to ${HISTORY_PAGE_MAX}); next_seq is set when there are more.`,
    schema: historySchema,
    replyChannelOf: (i) => i.response_channel,
    async handle(input, ctx) {
      const rec = await mustGetExecution(d.store, input.execution_id, scopeOf(d.perPublisher, ctx.publisher));
      const read = await d.store.history(input.execution_id, input.after_seq ?? 0, input.limit + 1);
      const events: Record<string, Json>[] = [];
      let bytes = 0;
      for (const h of read.slice(0, input.limit)) {
        const view = eventView(h, rec.id);
        bytes += Buffer.byteLength(JSON.stringify(view));
        if (events.length > 0 && bytes > HISTORY_PAGE_BYTES) break;
        events.push(view);
      }
      const more = read.length > events.length;
      return {
        reply: {
          result: {
            execution_id: rec.id, status: rec.status, events,
            ...(more ? { next_seq: events.at(-1)!.seq as number } : {}),
          },
        },
      };
    },
  };
}

function eventView(h: StoredHistoryEvent, executionId: string): Record<string, Json> {
  const { type: _type, timestamp: _ts, state: _state, input: _input, output: _output, ...details } = h.event as unknown as Record<string, Json>;
  return withoutTaskTokens({
    seq: h.seq, type: h.type, at: new Date(h.at).toISOString(),
    ...(h.state !== undefined ? { state: h.state } : {}),
    ...(h.input !== undefined ? { input: h.input } : {}),
    ...(h.output !== undefined ? { output: h.output } : {}),
    ...details,
  }, executionId) as Record<string, Json>;
}

export const REDACTED_TASK_TOKEN = '(task token)';

/**
 * A task token is a bearer credential (whoever holds it completes the task): the parameters of
 * a callback task carry it, and the history is readable by anyone who may read the channel.
 * Only the receiver of the task's own message gets it.
 */
function withoutTaskTokens(v: Json, executionId: string): Json {
  if (typeof v === 'string') return parseTaskToken(v)?.executionId === executionId ? REDACTED_TASK_TOKEN : v;
  if (Array.isArray(v)) return v.map((x) => withoutTaskTokens(x, executionId));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withoutTaskTokens(x, executionId)]));
  return v;
}

const STATUSES = ['RUNNING', 'PAUSED', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] as const;
/** A list reply stops before the execution that would take it past this many bytes of JSON (one always goes). */
export const LIST_PAGE_BYTES = 4 * 1024 * 1024;
const listSchema = z.strictObject({
  ...common,
  status: z.enum(STATUSES).optional(),
  limit: z.int().min(1, 'expected 1 or more').max(1_000, 'expected at most 1000').default(50),
  next_token: z.string().regex(/^\d+(\.\d+)?:[!-~]{1,255}$/, 'expected the next_token of an earlier workflow.list reply').optional(),
});

/** The cursor after an execution: where it sorts (newest first, then by id). */
const cursorOf = (r: { createdAt: number; id: string }): string => `${r.createdAt}:${r.id}`;
function parseCursor(t: string): { createdAt: number; id: string } {
  const at = t.indexOf(':');
  return { createdAt: Number(t.slice(0, at)), id: t.slice(at + 1) };
}

export function workflowList(d: WorkflowActionDeps, pageBytes = LIST_PAGE_BYTES): ActionDefinition<typeof listSchema> {
  return {
    channel: 'workflow.list',
    description: `Reply with the caller's newest executions (optionally of one status), at most limit (default 50) and about ${LIST_PAGE_BYTES / 1024 / 1024} MiB; next_token is set when there are more.`,
    schema: listSchema,
    replyChannelOf: (i) => i.response_channel,
    async handle(input, ctx) {
      const rows = await d.store.listExecutions({
        limit: input.limit + 1, scope: scopeOf(d.perPublisher, ctx.publisher),
        ...(input.status ? { status: input.status } : {}),
        ...(input.next_token !== undefined ? { before: parseCursor(input.next_token) } : {}),
      });
      const executions: Record<string, Json>[] = [];
      let bytes = 0;
      for (const r of rows.slice(0, input.limit)) {
        const view = executionView(r, { input: false });
        bytes += Buffer.byteLength(JSON.stringify(view));
        if (executions.length > 0 && bytes > pageBytes) break;
        executions.push(view);
      }
      const more = rows.length > executions.length;
      return { reply: { result: { executions, ...(more ? { next_token: cursorOf(rows[executions.length - 1]!) } : {}) } } };
    },
  };
}
