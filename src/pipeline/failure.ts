/**
 * Pure: what becomes of a message whose handling failed. Retryable failures are handed back
 * (with an attempt count, since classic queues count nothing) until maxAttempts, then parked;
 * an engine or store (run ledger) outage is not the message's fault and is not counted. Anything else is parked on
 * the errors channel and answered with an error envelope.
 */
import { errorOf } from '../domain/envelope.js';
import { BosunError } from '../domain/errors.js';
import { ERRORS_CHANNEL } from '../ports/transport.js';
import { backoffMs } from '../util/abort.js';
import type { RunContext, RunResult } from './context.js';
import { errorRecord } from './park.js';
import { errorEnvelope, planReplies, type ReplyPaths } from './reply.js';

export const DEFAULT_MAX_ATTEMPTS = 5;

export interface FailedMessage {
  channel: string;
  body: Buffer;
  requestId: string;
  paths: ReplyPaths;
  started: number;
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
  const parked = {
    channel: m.channel,
    body: m.body,
    headers: facts.headers ?? {},
    ...(facts.replyTo !== undefined ? { replyTo: facts.replyTo } : {}),
    ...(facts.userId !== undefined ? { userId: facts.userId } : {}),
  };
  const record = { channel: ctx.errorsChannel ?? ERRORS_CHANNEL, body: JSON.stringify(errorRecord(parked, err, requestId, m.started)), messageId: requestId, declare: true };
  return { requestId, durationMs, envelope, status: 'rejected', settle: { kind: 'park', record, replies: planReplies(envelope, { ...m.paths, format: 'envelope' }) } };
}
