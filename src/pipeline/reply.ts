/**
 * Pure: turning an action's outcome or error into replies (envelope or raw) and an errors-queue record.
 */
import type { ActionOutcome } from '../actions/types.js';
import { errorOf, type ReplyEnvelope } from '../domain/envelope.js';
import type { BosunError } from '../domain/errors.js';

export interface OutboundReply {
  channel: string;
  body: string;
  correlationId?: string;
  /** The request id: a consumer can drop the duplicate reply a crash between reply and ack may cause. */
  messageId: string;
  /** response_channel is declared durable so no reply is lost; reply_to queues belong to the sender. */
  declare: boolean;
}

export interface ReplyPaths {
  /** The action's reply field (response_channel). */
  responseChannel?: string;
  /** AMQP reply_to / stream reply_to. */
  replyTo?: string;
  correlationId?: string;
  format: 'envelope' | 'raw';
}

export function successEnvelope(action: string, requestId: string, outcome: ActionOutcome, durationMs: number): ReplyEnvelope {
  return {
    ok: outcome.ok ?? true,
    action,
    request_id: requestId,
    ...outcome.reply,
    duration_ms: durationMs,
    ...(outcome.error ? { error: outcome.error } : {}),
  };
}

export function errorEnvelope(action: string, requestId: string, err: BosunError, durationMs: number): ReplyEnvelope {
  return { ok: false, action, request_id: requestId, duration_ms: durationMs, error: errorOf(err) };
}

/**
 * Where replies go: the envelope (or raw stdout, for chaining) to response_channel, and the
 * envelope to reply_to. Both when both are given and differ.
 */
export function planReplies(env: ReplyEnvelope, paths: ReplyPaths): OutboundReply[] {
  const out: OutboundReply[] = [];
  const envelope = JSON.stringify(env);
  const cid = paths.correlationId ?? env.request_id;
  if (paths.responseChannel) {
    const raw = paths.format === 'raw' && env.ok ? (env.stdout ?? '') : envelope;
    out.push({ channel: paths.responseChannel, body: raw, correlationId: cid, messageId: env.request_id, declare: true });
  }
  if (paths.replyTo && paths.replyTo !== paths.responseChannel) out.push({ channel: paths.replyTo, body: envelope, correlationId: cid, messageId: env.request_id, declare: false });
  return out;
}

export type { ErrorRecord } from './park.js';
