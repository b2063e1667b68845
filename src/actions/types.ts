/**
 * What an action is: a channel name, a zod schema for its message body, a handler, how its
 * messages are delivered and what it needs beyond the engine. The pipeline (src/pipeline)
 * decodes, validates, applies policy, runs the handler and builds the reply envelope;
 * handlers only do their one job.
 */
import type { z } from 'zod';
import type { ContainerEngine } from '../ports/engine.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../util/log.js';
import type { Policy } from '../domain/policy.js';
import type { ReplyEnvelope, ReplyError } from '../domain/envelope.js';
import type { MonitorService } from '../monitors/manager.js';

export interface ActionContext {
  engine: ContainerEngine;
  policy: Policy;
  log: Logger;
  clock: Clock;
  /** Stable across redeliveries of the same message; labels what the action creates. */
  requestId: string;
  /** True when the sender gave the id (request_id, message id, correlation id): it may repeat. */
  requestIdGiven: boolean;
  /** True when bosun made the id (the message had none, or this is the agent's copy of such a message): earlier deliveries are matched by body. */
  idGenerated: boolean;
  /** Hash of channel+body, to find an id-less message's earlier work when it is redelivered. */
  bodyHash: string;
  /** The broker delivered this message before: look for work already done. */
  redelivered: boolean;
  channel: string;
  /** Who published the message (broker-validated user id), when the broker said; ctx.policy is already theirs. */
  publisher?: string;
  /** The message's own reply path and correlation id, for a reply sent long after this one (a workflow's end). */
  replyTo?: string;
  correlationId?: string;
  /** Aborted on shutdown or when the action's timeout passes. */
  signal: AbortSignal;
  /** The agent's warm pools, when it was started with --pools. */
  pools?: import('../warm/pools.js').WarmPools;
  /** Publishes a JSON body to a channel, durably (for notices sent later, e.g. monitors). */
  publish(channel: string, body: unknown): Promise<void>;
  /** Publishes a JSON body on the message's reply path(s) before the final envelope; a no-op when it has none. */
  publishProgress(body: unknown): Promise<void>;
}

/** The envelope fields an action fills (container, exit_code, stdout, result, …); the pipeline adds the rest. */
export type ReplyFields = Omit<ReplyEnvelope, 'ok' | 'action' | 'request_id' | 'duration_ms' | 'error'>;

export interface ActionOutcome {
  reply: ReplyFields;
  /** False when the action finished but failed (e.g. non-zero exit): the envelope says ok:false. */
  ok?: boolean;
  /** Runs once the reply is out and the message acked (e.g. remove a function run's container). */
  afterSettle?: () => Promise<void>;
  error?: ReplyError;
}

/** Which run quota a message counts against, when it starts a container. */
export type RunKind = 'attached' | 'detached';

/**
 * How the transport hands the action its messages. Every message is acked once its outcome
 * is settled (replies confirmed, or parked); an action that goes on working after its reply
 * (monitors) returns at once and sends its later notices itself.
 */
export interface DeliverySettings {
  /**
   * Messages in flight on this channel at once: the agent's concurrency, or at least `atLeast`
   * (non-blocking actions whose handler returns at once, so many can wait cheaply).
   */
  prefetch: 'concurrency' | { atLeast: number };
  /**
   * Where the reply envelope goes. 'sender': the message's response_channel (as the action's
   * replyChannelOf reads it) and reply_to. 'reply_to': reply_to only — the response_channel is
   * where the action publishes its own later notices, and receives nothing else.
   */
  replies: 'sender' | 'reply_to';
}

export const DEFAULT_DELIVERY: DeliverySettings = { prefetch: 'concurrency', replies: 'sender' };

/** What actions may need beyond the action context; the registry builder is given them once. */
export interface ActionDeps {
  monitors: MonitorService;
}

/** An action as its module writes it, typed by its schema. */
export interface ActionDefinition<S extends z.ZodType = z.ZodType> {
  /** Canonical channel name (e.g. "start_container.create"). */
  channel: string;
  /** Short human description, used in the README reference and JSON Schemas. */
  description: string;
  schema: S;
  delivery?: Partial<DeliverySettings>;
  /** The message field naming where the sender wants the reply, if the action has one. */
  replyChannelOf?(input: z.infer<S>): string | undefined;
  /** "raw": reply with stdout alone (seed 000 chaining) when the input asks for it. */
  responseFormatOf?(input: z.infer<S>): 'envelope' | 'raw';
  /** The run quota the message counts against, when it starts a container. */
  runKindOf?(input: z.infer<S>): RunKind | undefined;
  handle(input: z.infer<S>, ctx: ActionContext): Promise<ActionOutcome>;
}

/** A validated message bound to its action's handler: what the pipeline needs of it, typed no more. */
export interface AcceptedMessage {
  replyChannel: string | undefined;
  format: 'envelope' | 'raw';
  runKind: RunKind | undefined;
  handle(ctx: ActionContext): Promise<ActionOutcome>;
}

/** An action in the registry: its schema's type is closed inside `accept`. */
export interface Action {
  channel: string;
  description: string;
  schema: z.ZodType;
  delivery: DeliverySettings;
  /** Validates a decoded body (invalid_message naming every offending field) and binds it to the handler. */
  accept(body: unknown): AcceptedMessage;
}
