/**
 * What the agent checks of a message before it parses or trusts any of it: its size, the
 * reply paths and request id that must fit an AMQP short string, and who published it.
 * A failure here is the message's own fault: never retryable.
 */
import { createHash } from 'node:crypto';
import { BosunError } from '../domain/errors.js';
import { REPLY_CHANNEL_HINT, REQUEST_ID_HINT, isReplyChannel, isRequestId } from '../domain/references.js';
import type { InboundMessage } from '../ports/transport.js';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** JSON5 (the seeds' single quotes) is parsed only below this size: its parser is slow on big bodies. */
export const JSON5_MAX_BYTES = 64 * 1024;
/** Carries the publisher across the agent's own republishes (checkpoints, retries). */
export const PUBLISHER_HEADER = 'x-bosun-publisher';

export function checkSize(body: Buffer, maxBytes: number): void {
  if (body.length > maxBytes) {
    throw new BosunError('message_too_large', `the message body is ${body.length} bytes; this agent takes at most ${maxBytes} (--max-body-bytes)`, {
      retryable: false,
      details: { size: body.length, max: maxBytes },
    });
  }
}

/** request_id and response_channel, read before identification uses them (any channel, any key case). */
export function checkBorderFields(body: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(body)) {
    const k = key.toLowerCase();
    if (typeof value !== 'string') continue;
    if (k === 'request_id' && !isRequestId(value)) throw new BosunError('invalid_message', `request_id: expected ${REQUEST_ID_HINT}`, { field: key, retryable: false });
    if (k === 'response_channel' && !isReplyChannel(value)) throw new BosunError('invalid_message', `response_channel: expected ${REPLY_CHANNEL_HINT}`, { field: key, retryable: false });
  }
}

/** An id that can be published as a message id: the given one, or a hash of it when it cannot. */
export function safeId(id: string): string {
  return isRequestId(id) ? id : `sha256:${createHash('sha256').update(id).digest('hex')}`;
}

/** A reply_to that can be published to (Redis stream fields can hold anything). */
export function usableReplyTo(replyTo: string | undefined): string | undefined {
  return replyTo !== undefined && isRequestId(replyTo) && !/\s/.test(replyTo) ? replyTo : undefined;
}

/**
 * Who published: the broker-validated user id, except on the agent's own republished copies
 * (published as the agent's user), which carry the original publisher in a header. A header
 * from anyone else is ignored, so it cannot be forged by a publisher with another user.
 */
export function publisherOf(msg: InboundMessage, agentUser: string | undefined): string | undefined {
  const carried = msg.headers[PUBLISHER_HEADER];
  if (carried !== undefined && agentUser !== undefined && msg.userId === agentUser) return carried || undefined;
  return msg.userId;
}
