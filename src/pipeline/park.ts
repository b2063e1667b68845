/**
 * The errors-queue record of a rejected message. The body is kept byte for byte: as text when
 * it is valid UTF-8, else base64. An oversized body is not kept whole (50 MB records would make
 * the errors queue the next DoS): its first PREFIX bytes (base64), its size and its sha256.
 */
import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { errorOf } from '../domain/envelope.js';
import type { BosunError } from '../domain/errors.js';
import type { InboundMessage } from '../ports/transport.js';

export const OVERSIZED_PREFIX_BYTES = 4096;

export interface ErrorRecord {
  channel: string;
  request_id: string;
  received_at: string;
  error: ReturnType<typeof errorOf>;
  /** The original body: UTF-8 text, or base64 (see body_encoding). */
  body: string;
  body_encoding: 'utf8' | 'base64';
  body_bytes: number;
  /** Only for bodies not kept whole (message_too_large): body is the base64 of the first bytes. */
  body_truncated?: true;
  body_sha256?: string;
  headers: Record<string, string>;
  reply_to?: string;
  user_id?: string;
}

/** The parts of a message the record keeps. */
export type ParkedMessage = Pick<InboundMessage, 'channel' | 'body' | 'headers' | 'replyTo' | 'userId'>;

export function errorRecord(msg: ParkedMessage, err: BosunError, requestId: string, receivedAt: number): ErrorRecord {
  const whole = err.code !== 'message_too_large';
  const bytes = whole ? msg.body : msg.body.subarray(0, OVERSIZED_PREFIX_BYTES);
  const text = whole && isUtf8(bytes);
  return {
    channel: msg.channel,
    request_id: requestId,
    received_at: new Date(receivedAt).toISOString(),
    error: errorOf(err),
    body: text ? bytes.toString('utf8') : bytes.toString('base64'),
    body_encoding: text ? 'utf8' : 'base64',
    body_bytes: msg.body.length,
    ...(whole ? {} : { body_truncated: true as const, body_sha256: createHash('sha256').update(msg.body).digest('hex') }),
    headers: msg.headers,
    ...(msg.replyTo ? { reply_to: msg.replyTo } : {}),
    ...(msg.userId ? { user_id: msg.userId } : {}),
  };
}
