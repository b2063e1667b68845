/**
 * Pure: what becomes of a message whose handling failed. Retryable failures are handed back
 * (with an attempt count, since classic queues count nothing) until maxAttempts, then parked;
 * an engine or store (run ledger) outage is not the message's fault and is not counted. Anything else is parked on
 * the errors channel and answered with an error envelope.
 */
import { createHash } from 'node:crypto';
import { errorOf } from '../domain/envelope.js';
import { BosunError } from '../domain/errors.js';
import { ERRORS_CHANNEL } from '../ports/transport.js';
import { backoffMs } from '../util/abort.js';
import type { RunContext, RunResult, Settlement } from './context.js';
import { errorRecord } from './park.js';
import { errorEnvelope, planReplies, type OutboundReply, type ReplyPaths } from './reply.js';

export const DEFAULT_MAX_ATTEMPTS = 5;

export interface FailedMessage {
  channel: string;
  body: Buffer;
  requestId: string;
  paths: ReplyPaths;
  started: number;
}

/** How much of an undelivered reply its errors-queue record keeps (more is cut, with its size and sha256): a sender who makes its own reply queue refuse must not park megabytes per message. */
export const UNDELIVERED_BODY_CHARS = 64 * 1024;

/**
 * Some of a run's replies were published and others refused (a full reject-publish
 * response_channel, say). The run is not done again — a second run could answer differently on
 * the paths that have their reply — so the refused replies themselves are sent again, until
 * --max-attempts sends, with backoff; what still cannot be sent is parked with its body.
 */
export function planResend(ctx: RunContext, m: FailedMessage, answered: OutboundReply[], undelivered: OutboundReply[], err: BosunError): Settlement {
  const max = ctx.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const delaysMs = Array.from({ length: Math.max(0, max - 1) }, (_, i) => backoffMs(i + 1, 500, 5000));
  const channels = undelivered.map((r) => r.channel);
  const given = new BosunError('broker_error', `the reply could not be delivered to ${channels.join(', ')} (sent ${delaysMs.length + 1} times; the first refusal: ${err.message}); ${answered.map((r) => r.channel).join(', ')} had it`, {
    retryable: false,
    details: { undelivered: undelivered.map(keptReply), answered: answered.map((r) => r.channel) },
  });
  return { kind: 'resend', replies: undelivered, delaysMs, record: parkRecord(ctx, m, given) };
}

function keptReply(r: OutboundReply): { channel: string; body: string; body_bytes: number; body_truncated?: true; body_sha256?: string } {
  const bytes = Buffer.byteLength(r.body);
  if (r.body.length <= UNDELIVERED_BODY_CHARS) return { channel: r.channel, body: r.body, body_bytes: bytes };
  return { channel: r.channel, body: r.body.slice(0, UNDELIVERED_BODY_CHARS), body_bytes: bytes, body_truncated: true, body_sha256: createHash('sha256').update(r.body).digest('hex') };
}

export function planFailure(ctx: RunContext, m: FailedMessage, err: BosunError): RunResult {
  const facts = ctx.message ?? {};
  const { requestId } = m;
  const durationMs = ctx.clock.now() - m.started;
  // Shutting down: hand the work back to the broker; the container keeps running and is found again.
  if (err.retryable && ctx.signal.aborted) return { requestId, durationMs, settle: { kind: 'requeue', delayMs: 0 }, error: errorOf(err) };
  if (err.retryable) {
    // An engine or store outage is not the message's fault.
    const counted = err.code !== 'engine_unavailable' && err.code !== 'store_error';
    const attempts = (facts.attempts ?? 0) + (counted ? 1 : 0);
    const max = ctx.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!counted || attempts < max) {
      ctx.log.warn({ err: err.message, code: err.code, requestId, attempts }, 'transient failure; requeueing');
      const delayMs = backoffMs(Math.max(1, attempts), 500, 5000);
      return { requestId, durationMs, status: 'requeued', error: errorOf(err), settle: counted ? { kind: 'retry', attempts, delayMs } : { kind: 'requeue', delayMs } };
    }
    err = new BosunError('redelivery_limit', `gave up after ${attempts} attempts; last error ${err.code}: ${err.message}`, {
      retryable: false,
      details: { attempts, last_error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } },
    });
  }
  const envelope = errorEnvelope(m.channel, requestId, err, durationMs);
  ctx.log.warn({ channel: m.channel, requestId, code: err.code, field: err.field, err: err.message }, 'message rejected');
  const record = parkRecord(ctx, m, err);
  return { requestId, durationMs, envelope, status: 'rejected', settle: { kind: 'park', record, replies: planReplies(envelope, { ...m.paths, format: 'envelope' }) } };
}

/** The errors-queue record of this message with this error. */
function parkRecord(ctx: RunContext, m: FailedMessage, err: BosunError): OutboundReply {
  const facts = ctx.message ?? {};
  const parked = {
    channel: m.channel,
    body: m.body,
    headers: facts.headers ?? {},
    ...(facts.replyTo !== undefined ? { replyTo: facts.replyTo } : {}),
    ...(facts.userId !== undefined ? { userId: facts.userId } : {}),
  };
  return { channel: ctx.errorsChannel ?? ERRORS_CHANNEL, body: JSON.stringify(errorRecord(parked, err, m.requestId, m.started)), messageId: m.requestId, declare: true };
}
