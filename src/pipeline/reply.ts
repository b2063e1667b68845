/**
 * Pure: turning an action's outcome or error into replies (envelope or raw) and an errors-queue record.
 */
import type { ActionOutcome } from '../actions/types.js';
import { errorOf, type ReplyEnvelope } from '../domain/envelope.js';
import type { BosunError } from '../domain/errors.js';
import type { PublishOptions } from '../ports/transport.js';

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

/**
 * A progress body (issue 11's stream chunks) on the same paths as the final reply, always JSON;
 * its message id is the request id with its sequence number, so it is never taken for the reply.
 */
export function planProgress(paths: ReplyPaths, requestId: string, seq: number, body: unknown): OutboundReply[] {
  const json = JSON.stringify(body);
  const base = { body: json, correlationId: paths.correlationId ?? requestId, messageId: `${requestId}:progress:${seq}` };
  const out: OutboundReply[] = [];
  if (paths.responseChannel) out.push({ ...base, channel: paths.responseChannel, declare: true });
  if (paths.replyTo && paths.replyTo !== paths.responseChannel) out.push({ ...base, channel: paths.replyTo, declare: false });
  return out;
}

/** The transport options of a reply. */
export function publishOptionsOf(r: OutboundReply): PublishOptions {
  return { declare: r.declare, messageId: r.messageId, ...(r.correlationId ? { correlationId: r.correlationId } : {}) };
}

export type { ErrorRecord } from './park.js';
