import { createHash, randomUUID } from 'node:crypto';
import type { InboundMessage } from '../ports/transport.js';

export interface RequestIdentity {
  /** Stable id of the request: labels what it creates, names its reply. */
  id: string;
  /** True when the sender gave the id (request_id field, message id or correlation id). */
  explicit: boolean;
  /**
   * True when bosun made the id: the message had none (a fresh random one), or it is the agent's
   * copy of such a message (the first delivery's random one, as its message id). Its earlier
   * deliveries are found by body, not by id.
   */
  generated: boolean;
  /** Hash of channel + body: finds the work of an id-less message on redelivery. */
  bodyHash: string;
}

/** The id the transport carried (message id, else correlation id); an empty one is no id. */
export function transportIdOf(msg: Pick<InboundMessage, 'messageId' | 'correlationId'>): string | undefined {
  return msg.messageId || msg.correlationId || undefined;
}

/**
 * A sender-given id makes redelivery exactly-once; without one, a redelivered message is
 * matched to its earlier work by body hash, and a fresh message always runs anew.
 * copyOfIdless: the agent's own copy of a message that carried no id (ID_GENERATED_HEADER, trusted).
 */
export function identify(msg: Pick<InboundMessage, 'channel' | 'body' | 'messageId' | 'correlationId'>, body: Record<string, unknown>, copyOfIdless = false): RequestIdentity {
  const bodyHash = createHash('sha256').update(msg.channel).update('\0').update(msg.body).digest('hex').slice(0, 24);
  const fromBody = typeof body.request_id === 'string' && body.request_id ? body.request_id : undefined;
  const given = fromBody ?? transportIdOf(msg);
  if (given) return { id: given, explicit: true, generated: copyOfIdless && fromBody === undefined, bodyHash };
  return { id: randomUUID(), explicit: false, generated: true, bodyHash };
}
