/**
 * The agent's own republished copies of a message (checkpoints of long runs, retries with an
 * attempt count). On AMQP they are published as the agent's user, carrying the original
 * publisher in a header; only a copy whose user_id is the agent's own is trusted to say so.
 */
import type { InboundMessage, PublishOptions } from '../ports/transport.js';
import { PUBLISHER_HEADER } from '../pipeline/border.js';

/** Marks a checkpointed copy of a long run. */
export const RESUME_HEADER = 'x-bosun-resume';

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

export function copyOptions(agentUser: string | undefined, owed: InboundMessage, requestId: string, publisher: string | undefined, headers: Record<string, string>): PublishOptions {
  const carried = { ...headers };
  delete carried[PUBLISHER_HEADER];
  if (agentUser !== undefined) carried[PUBLISHER_HEADER] = publisher ?? '';
  return {
    messageId: requestId,
    headers: carried,
    ...(agentUser !== undefined ? { userId: agentUser } : {}),
    ...(owed.replyTo ? { replyTo: owed.replyTo } : {}),
    ...(owed.correlationId ? { correlationId: owed.correlationId } : {}),
  };
}
