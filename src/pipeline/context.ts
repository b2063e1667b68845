/**
 * What runAction is given (the process's parts, and what the transport says of the message)
 * and what it returns: the envelope and how the message is to be settled. It publishes and
 * acks nothing itself; its caller does what the result says.
 */
import type { WarmPools } from '../warm/pools.js';
import type { ActionRegistry } from '../actions/registry.js';
import type { ReplyEnvelope, ReplyError } from '../domain/envelope.js';
import type { Policy } from '../domain/policy.js';
import type { Clock } from '../ports/clock.js';
import type { ContainerEngine } from '../ports/engine.js';
import type { PublishOptions } from '../ports/transport.js';
import type { Logger } from '../util/log.js';
import type { RunQuotas } from './quotas.js';
import type { OutboundReply } from './reply.js';
import type { LedgerDeps } from './ledger.js';

/** Built once per process. */
export interface PipelineDeps {
  registry: ActionRegistry;
  engine: ContainerEngine;
  policy: Policy;
  clock: Clock;
  log: Logger;
  quotas: RunQuotas;
  /** Durable publish: an action's own notices (ctx.publish) and its progress. */
  publish(channel: string, body: string, opts: PublishOptions): Promise<void>;
  /** Aborted on shutdown: handlers stop, retryable failures are handed back as they are. */
  signal: AbortSignal;
  /** Where rejected messages are parked (default bosun.errors). */
  errorsChannel?: string;
  /** Bodies above this are parked as message_too_large without being decoded (default 1 MiB). */
  maxBodyBytes?: number;
  /** JSON5 is tried only for bodies up to this size (default 64 KiB). */
  json5MaxBytes?: number;
  /** Deliveries a message gets for retryable failures before it is parked as redelivery_limit (default 5). */
  maxAttempts?: number;
  /** Warm pools (bosun agent --pools) that attached runs may use. */
  pools?: WarmPools;
  /** Run ledger: runs are claimed by request id before they start (src/pipeline/ledger.ts). */
  ledger?: LedgerDeps;
}

/** What the transport says of a message beyond its body; an in-process caller may give none of it. */
export interface MessageFacts {
  messageId?: string;
  correlationId?: string;
  replyTo?: string;
  headers?: Record<string, string>;
  /** The broker-validated user id, as received (kept in the errors record). */
  userId?: string;
  /** Who published, as the transport vouches for it (the original publisher on the agent's own copies). */
  publisher?: string;
  redelivered?: boolean;
  /** The agent's own republished copy: its resume and attempt headers are to be trusted. */
  ownCopy?: boolean;
  /** Carries the checkpoint (resume) header of a long run. */
  resumed?: boolean;
  /** Times the agent handed the message back after a retryable failure. */
  attempts?: number;
  /** The agent's own copy of a message that carried no id (src/agent/copies.ts, ID_GENERATED_HEADER). */
  copyOfIdless?: boolean;
}

/** The caller's part in the idempotency step (the agent tracks in-flight work and checkpoints it). */
export interface RunHooks {
  /**
   * A checkpointed copy of a long run: 'adopted' when that work still runs here (it settles
   * the copy), 'done' when it finished (the copy is only acked), undefined to run it.
   */
  resumed?(requestId: string): 'adopted' | 'done' | undefined;
  /** The handler starts; the returned function is called when it ends. */
  started?(requestId: string): () => void;
}

export interface RunContext extends PipelineDeps {
  message?: MessageFacts;
  hooks?: RunHooks;
}

/** How the message is settled, in order: what to publish, then ack or hand back. */
export type Settlement =
  /**
   * Publish every reply (side by side), then ack. When none can be published that is a failure of
   * its own (onPublishError); when only some can, the others are re-sent (onPartialPublishError).
   */
  | { kind: 'reply'; replies: OutboundReply[] }
  /** Publish these replies again after each delay until all are out, then ack; the record is parked (then ack) if they never are. */
  | { kind: 'resend'; replies: OutboundReply[]; delaysMs: number[]; record: OutboundReply }
  /** Park the record (if that fails, requeue instead), then each reply on its own (best effort), then ack. */
  | { kind: 'park'; record: OutboundReply; replies: OutboundReply[] }
  /** After delayMs, hand the message back as it is (nack, requeue). */
  | { kind: 'requeue'; delayMs: number }
  /** After delayMs, hand back a copy carrying the attempt count and ack the original (requeue if the copy fails). */
  | { kind: 'retry'; attempts: number; delayMs: number }
  /** A copy of work already done here: ack it, nothing else. */
  | { kind: 'ack' }
  /** Adopted by the work still running here, which settles it. */
  | { kind: 'none' };

export type RunStatus = 'ok' | 'failed' | 'rejected' | 'requeued';

export interface RunResult {
  requestId: string;
  settle: Settlement;
  /** From receipt to this result. */
  durationMs: number;
  /** The reply envelope, when the message gets one (done, failed or rejected). */
  envelope?: ReplyEnvelope;
  /** For metrics; absent when the message is handed back on shutdown or is a copy. */
  status?: RunStatus;
  /** The failure behind a requeue or retry (no envelope is sent for those). */
  error?: ReplyError;
  /** Runs once the replies are out and the message acked. */
  afterSettle?: () => Promise<void>;
  /** What to do instead when no reply of a 'reply' settlement can be published (or a resend's record cannot be parked). */
  onPublishError?(err: unknown): RunResult;
  /** What to do when some replies of a 'reply' settlement were published and these were refused; without it, onPublishError. */
  onPartialPublishError?(answered: OutboundReply[], undelivered: OutboundReply[], err: unknown): Settlement;
}
