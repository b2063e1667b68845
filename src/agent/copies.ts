/**
 * The agent's own republished copies of a message (checkpoints of long runs, retries with an
 * attempt count). On AMQP they are published as the agent's user, carrying the original
 * publisher in a header; only a copy whose user_id is the agent's own is trusted to say so.
 */
import type { InboundMessage, PublishOptions } from '../ports/transport.js';
import { PUBLISHER_HEADER } from '../pipeline/border.js';
import { transportIdOf } from '../pipeline/request-id.js';

/** Marks a checkpointed copy of a long run. */
export const RESUME_HEADER = 'x-bosun-resume';

/**
 * Marks a copy of a message that carried no id: the copy's message id is the random one the
 * first delivery was given, and its earlier work is still named after its body (warm claims).
 */
export const ID_GENERATED_HEADER = 'x-bosun-id-generated';

/** How many times the agent has handed a message back after a retryable failure. */
export const ATTEMPTS_HEADER = 'x-bosun-attempts';

/** The attempt count a message carries; anything but a small non-negative integer counts as 0. */
export function attemptsOf(msg: InboundMessage): number {
  const v = msg.headers[ATTEMPTS_HEADER];
  return v !== undefined && /^\d{1,4}$/.test(v) ? Number(v) : 0;
}

/** True when the message may be the agent's own copy (always so on Redis, which names no publisher). */
export function trustsOwnHeaders(msg: InboundMessage, agentUser: string | undefined): boolean {
  return agentUser === undefined || msg.userId === agentUser;
}

/** Whether this delivery's request id is one bosun made: the message carried none, or it is the agent's copy of such a message. */
export function idWasGenerated(msg: InboundMessage, agentUser: string | undefined): boolean {
  if (transportIdOf(msg) === undefined) return true;
  return trustsOwnHeaders(msg, agentUser) && msg.headers[ID_GENERATED_HEADER] === '1';
}

export function copyOptions(agentUser: string | undefined, owed: InboundMessage, requestId: string, publisher: string | undefined, headers: Record<string, string>): PublishOptions {
  const carried = { ...headers };
  delete carried[PUBLISHER_HEADER];
  if (agentUser !== undefined) carried[PUBLISHER_HEADER] = publisher ?? '';
  // Set only by the agent: a sender's own header of that name is not carried into the copy.
  delete carried[ID_GENERATED_HEADER];
  if (idWasGenerated(owed, agentUser)) carried[ID_GENERATED_HEADER] = '1';
  return {
    messageId: requestId,
    headers: carried,
    ...(agentUser !== undefined ? { userId: agentUser } : {}),
    ...(owed.replyTo ? { replyTo: owed.replyTo } : {}),
    ...(owed.correlationId ? { correlationId: owed.correlationId } : {}),
  };
}
