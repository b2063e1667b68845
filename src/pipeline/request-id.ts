import { createHash, randomUUID } from 'node:crypto';
import type { InboundMessage } from '../ports/transport.js';

export interface RequestIdentity {
  /** Stable id of the request: labels what it creates, names its reply. */
  id: string;
  /** True when the sender gave the id (request_id field, message id or correlation id). */
  explicit: boolean;
  /** Hash of channel + body: finds the work of an id-less message on redelivery. */
  bodyHash: string;
}

/**
 * A sender-given id makes redelivery exactly-once; without one, a redelivered message is
 * matched to its earlier work by body hash, and a fresh message always runs anew.
 */
export function identify(msg: Pick<InboundMessage, 'channel' | 'body' | 'messageId' | 'correlationId'>, body: Record<string, unknown>): RequestIdentity {
  const bodyHash = createHash('sha256').update(msg.channel).update('\0').update(msg.body).digest('hex').slice(0, 24);
  const given = typeof body.request_id === 'string' && body.request_id ? body.request_id : (msg.messageId ?? msg.correlationId);
  if (given) return { id: given, explicit: true, bodyHash };
  return { id: randomUUID(), explicit: false, bodyHash };
}
