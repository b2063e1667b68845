/**
 * What an action is: a channel name, a zod schema for its message body, and a handler.
 * The agent validates, applies policy, runs the handler and builds the reply envelope;
 * handlers only do their one job.
 */
import type { z } from 'zod';
import type { ContainerEngine } from '../ports/engine.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../util/log.js';
import type { Policy } from '../domain/policy.js';

export interface ActionContext {
  engine: ContainerEngine;
  policy: Policy;
  log: Logger;
  clock: Clock;
  /** Stable across redeliveries of the same message; labels what the action creates. */
  requestId: string;
  /** True when the sender gave the id (request_id, message id, correlation id): it may repeat. */
  requestIdGiven: boolean;
  /** Hash of channel+body, to find an id-less message's earlier work when it is redelivered. */
  bodyHash: string;
  /** The broker delivered this message before: look for work already done. */
  redelivered: boolean;
  channel: string;
  /** Who published the message (broker-validated user id), when the broker said; ctx.policy is already theirs. */
  publisher?: string;
  /** Aborted on shutdown or when the action's timeout passes. */
  signal: AbortSignal;
  /** The agent's warm pools, when it was started with --pools. */
  pools?: import('../warm/pools.js').WarmPools;
  /** Publishes a JSON body to a channel, durably (for notices sent later, e.g. monitors). */
  publish(channel: string, body: unknown): Promise<void>;
}

export interface ActionOutcome {
  /** Envelope fields the action fills (container, exit_code, stdout, result, …). */
  reply: {
    container?: { id?: string; name?: string };
    exit_code?: number;
    stdout?: string;
    stderr?: string;
    truncated?: boolean;
    stdout_bytes?: number;
    stderr_bytes?: number;
    /** Attached runs: served by a prewarmed container. */
    warm?: boolean;
    result?: unknown;
  };
  /** False when the action finished but failed (e.g. non-zero exit): the envelope says ok:false. */
  ok?: boolean;
  /** Runs once the reply is out and the message acked (e.g. remove a function run's container). */
  afterSettle?: () => Promise<void>;
  error?: { code: import('../domain/errors.js').ErrorCode; message: string; field?: string };
}

export interface ActionDefinition<S extends z.ZodType = z.ZodType> {
  /** Canonical channel name (e.g. "start_container.create"). */
  channel: string;
  /** Short human description, used in the README reference and JSON Schemas. */
  description: string;
  schema: S;
  /** The message field naming where the sender wants the reply, if the action has one. */
  replyChannelOf?(input: z.infer<S>): string | undefined;
  /** "raw": reply with stdout alone (seed 000 chaining) when the input asks for it. */
  responseFormatOf?(input: z.infer<S>): 'envelope' | 'raw';
  /** Non-blocking actions (monitors) ack at once and reply later on their own. */
  handle(input: z.infer<S>, ctx: ActionContext): Promise<ActionOutcome>;
}
