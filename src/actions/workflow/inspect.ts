/**
 * workflow.status, workflow.history and workflow.list: read-only views of the store.
 */
import { z } from 'zod';
import type { StoredHistoryEvent } from '../../ports/workflow-store.js';
import type { Json } from '../../workflow/json.js';
import type { ActionDefinition } from '../types.js';
import { common, executionIdField, executionView, mustGetExecution } from './fields.js';
import type { WorkflowActionDeps } from './index.js';

const statusSchema = z.strictObject({ ...common, execution_id: executionIdField });

export function workflowStatus(d: WorkflowActionDeps): ActionDefinition<typeof statusSchema> {
  return {
    channel: 'workflow.status',
    description: 'Reply with an execution: status, input, output or error and cause, current states, timestamps.',
    schema: statusSchema,
    replyChannelOf: (i) => i.response_channel,
    async handle(input) {
      return { reply: { result: executionView(await mustGetExecution(d.store, input.execution_id)) } };
    },
  };
}

export const HISTORY_PAGE_MAX = 1_000;
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
    async handle(input) {
      const rec = await mustGetExecution(d.store, input.execution_id);
      const all = await d.store.history(input.execution_id, input.after_seq ?? 0);
      const page = all.slice(0, input.limit);
      const more = all.length > page.length;
      return {
        reply: {
          result: {
            execution_id: rec.id, status: rec.status, events: page.map(eventView),
            ...(more ? { next_seq: page.at(-1)!.seq } : {}),
          },
        },
      };
    },
  };
}

function eventView(h: StoredHistoryEvent): Record<string, Json> {
  const { type: _type, timestamp: _ts, state: _state, input: _input, output: _output, ...details } = h.event as unknown as Record<string, Json>;
  return {
    seq: h.seq, type: h.type, at: new Date(h.at).toISOString(),
    ...(h.state !== undefined ? { state: h.state } : {}),
    ...(h.input !== undefined ? { input: h.input } : {}),
    ...(h.output !== undefined ? { output: h.output } : {}),
    ...details,
  };
}

const STATUSES = ['RUNNING', 'PAUSED', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] as const;
const listSchema = z.strictObject({
  ...common,
  status: z.enum(STATUSES).optional(),
  limit: z.int().min(1, 'expected 1 or more').max(1_000, 'expected at most 1000').default(50),
});

export function workflowList(d: WorkflowActionDeps): ActionDefinition<typeof listSchema> {
  return {
    channel: 'workflow.list',
    description: 'Reply with the newest executions (optionally of one status), at most limit (default 50).',
    schema: listSchema,
    replyChannelOf: (i) => i.response_channel,
    async handle(input) {
      const rows = await d.store.listExecutions({ limit: input.limit, ...(input.status ? { status: input.status } : {}) });
      return { reply: { result: { executions: rows.map((r) => executionView(r, { input: false })) } } };
    },
  };
}
