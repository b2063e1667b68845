/**
 * Pure: where a workflow.start's end reply goes (the paths stored on the execution row) and
 * the envelope it carries once the execution has ended.
 */
import { z } from 'zod';
import type { ReplyEnvelope } from '../../domain/envelope.js';
import type { ExecutionRecord, ExecutionStatus } from '../../ports/workflow-store.js';
import { planReplies, type OutboundReply } from '../../pipeline/reply.js';
import type { Json } from '../json.js';

/** What workflow.start stores in the row's reply_to (snake_case: it is part of a message's story). */
export interface EndReplyPaths {
  request_id: string;
  response_channel?: string;
  reply_to?: string;
  correlation_id?: string;
}

const pathsSchema = z.object({
  request_id: z.string(),
  response_channel: z.string().optional(),
  reply_to: z.string().optional(),
  correlation_id: z.string().optional(),
});

export function endReplyPathsJson(p: EndReplyPaths): Json {
  return { ...p };
}

/** The stored paths, or undefined when the row holds none (or something this version did not write). */
export function endReplyPathsOf(stored: Json | undefined): EndReplyPaths | undefined {
  const r = pathsSchema.safeParse(stored);
  if (!r.success || (!r.data.response_channel && !r.data.reply_to)) return undefined;
  const { request_id, response_channel, reply_to, correlation_id } = r.data;
  return { request_id, ...(response_channel ? { response_channel } : {}), ...(reply_to ? { reply_to } : {}), ...(correlation_id ? { correlation_id } : {}) };
}

const ENDED: ReadonlySet<ExecutionStatus> = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);

export interface EndResult {
  execution_id: string;
  status: Exclude<ExecutionStatus, 'RUNNING'>;
  output?: Json;
  error?: string;
  cause?: string;
}

export function endResultOf(rec: ExecutionRecord): EndResult {
  const status = rec.status as EndResult['status'];
  if (status === 'SUCCEEDED') return { execution_id: rec.id, status, output: rec.state?.output ?? null };
  return { execution_id: rec.id, status, error: rec.state?.error ?? status, cause: rec.state?.cause ?? '' };
}

export function endEnvelope(rec: ExecutionRecord, requestId: string): ReplyEnvelope {
  return {
    ok: rec.status === 'SUCCEEDED',
    action: 'workflow.start',
    request_id: requestId,
    duration_ms: Math.max(0, Math.round(rec.updatedAt - rec.createdAt)),
    result: endResultOf(rec),
  };
}

/**
 * The publishes that deliver an ended execution's reply. The message id names the execution
 * and the fence it ended under, so a resend after a crash carries the same id (consumers can
 * drop it) while a redriven execution's later end is a new message.
 */
export function planEndReplies(rec: ExecutionRecord): OutboundReply[] {
  const paths = endReplyPathsOf(rec.replyTo);
  if (!paths || !ENDED.has(rec.status)) return [];
  const env = endEnvelope(rec, paths.request_id);
  const messageId = `${rec.id}:end:${rec.fence}`;
  return planReplies(env, {
    format: 'envelope',
    ...(paths.response_channel ? { responseChannel: paths.response_channel } : {}),
    ...(paths.reply_to ? { replyTo: paths.reply_to } : {}),
    correlationId: paths.correlation_id ?? paths.request_id,
  }).map((r) => ({ ...r, messageId }));
}
