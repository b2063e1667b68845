/**
 * The single-host agent: transport → action → engine.
 * A message is acked only after its outcome is handled: replies confirmed by the broker, or
 * the message parked on bosun.errors. Engine/broker outages requeue it (with backoff).
 * Runs that outlive the broker's consumer timeout are checkpointed: the message is
 * republished (same request id) and the original acked, so it is never lost nor run twice.
 */
import type { ActionDefinition, ActionOutcome } from '../actions/types.js';
import type { ActionRegistry } from '../actions/registry.js';
import { BosunError, toBosunError } from '../domain/errors.js';
import type { Policy } from '../domain/policy.js';
import type { Clock } from '../ports/clock.js';
import type { ContainerEngine } from '../ports/engine.js';
import { ERRORS_CHANNEL, type InboundMessage, type Subscription, type Transport } from '../ports/transport.js';
import { backoffMs, sleep } from '../util/abort.js';
import type { Logger } from '../util/log.js';
import { policyFor } from '../domain/policy/publishers.js';
import { isReplyChannel } from '../domain/references.js';
import { DEFAULT_MAX_BODY_BYTES, JSON5_MAX_BYTES, checkBorderFields, checkSize, publisherOf, safeId, usableReplyTo } from './border.js';
import { decodeBody } from './decode.js';
import type { AgentMetrics } from './metrics.js';
import { errorRecord } from './park.js';
import { ATTEMPTS_HEADER, DEFAULT_MAX_ATTEMPTS, attemptsOf, copyOptions, trustsOwnHeaders } from './copies.js';
import { RunQuotas, runKindOf } from './quotas.js';
import { errorEnvelope, planReplies, successEnvelope, type OutboundReply, type ReplyPaths } from './reply.js';
import { identify } from './request-id.js';
import { validate } from './validate.js';

export interface AgentOptions {
  transport: Transport;
  engine: ContainerEngine;
  registry: ActionRegistry;
  policy: Policy;
  clock: Clock;
  log: Logger;
  metrics?: AgentMetrics;
  concurrency: number;
  /** Warm pools (bosun agent --pools) that attached runs may use. */
  pools?: import('../warm/pools.js').WarmPools;
  /** Republish-and-ack a message still running after this long (RabbitMQ's consumer timeout is 30 min). */
  checkpointMs?: number;
  /** How long shutdown waits for in-flight work before requeueing it. */
  shutdownGraceMs?: number;
  /** Where rejected messages are parked (default bosun.errors). */
  errorsChannel?: string;
  /** Bodies above this are parked as message_too_large without being decoded (default 1 MiB). */
  maxBodyBytes?: number;
  /** JSON5 is tried only for bodies up to this size (default 64 KiB). */
  json5MaxBytes?: number;
  /** Deliveries a message gets for retryable failures before it is parked as redelivery_limit (default 5). */
  maxAttempts?: number;
}

const RESUME_HEADER = 'x-bosun-resume';
interface InFlight {
  /** The delivery whose ack is owed when the work finishes (changes at each checkpoint). */
  msg: InboundMessage | undefined;
}

export class Agent {
  private subs: Subscription[] = [];
  private readonly inflight = new Map<string, InFlight>();
  private readonly recentlyDone = new Set<string>();
  private readonly stopCtl = new AbortController();
  private running = 0;
  private readonly quotas: RunQuotas;

  constructor(private readonly o: AgentOptions) {
    this.quotas = new RunQuotas(o.engine, () => o.clock.now());
  }

  private get errorsChannel(): string {
    return this.o.errorsChannel ?? ERRORS_CHANNEL;
  }

  get channels(): string[] {
    return [...this.o.registry.keys()];
  }

  async start(): Promise<void> {
    await this.o.transport.declareChannel(this.errorsChannel);
    for (const channel of this.channels) {
      await this.o.transport.declareChannel(channel);
      const prefetch = channel === 'monitor_container_status' ? Math.max(this.o.concurrency, 64) : this.o.concurrency;
      this.subs.push(await this.o.transport.consume(channel, (m) => this.onMessage(m), { prefetch }));
    }
    this.o.log.info({ channels: this.channels, concurrency: this.o.concurrency }, 'agent consuming');
  }

  /** Stops taking messages, lets in-flight work finish within the grace period, then requeues the rest. */
  async stop(): Promise<void> {
    await Promise.allSettled(this.subs.map((s) => s.cancel()));
    this.subs = [];
    const deadline = Date.now() + (this.o.shutdownGraceMs ?? 30_000);
    while (this.running > 0 && Date.now() < deadline) await sleep(50);
    this.stopCtl.abort();
    while (this.running > 0) await sleep(20);
  }

  private async onMessage(msg: InboundMessage): Promise<void> {
    this.running++;
    this.o.metrics?.inflight.inc();
    try {
      await this.process(msg);
    } finally {
      this.running--;
      this.o.metrics?.inflight.dec();
    }
  }

  private async process(msg: InboundMessage): Promise<void> {
    const started = this.o.clock.now();
    const action = this.o.registry.get(msg.channel);
    let requestId = safeId(msg.messageId ?? msg.correlationId ?? 'unknown');
    const replyTo = usableReplyTo(msg.replyTo);
    let paths: ReplyPaths = { format: 'envelope', ...(replyTo ? { replyTo } : {}), ...(msg.correlationId ? { correlationId: msg.correlationId } : {}) };
    const publisher = publisherOf(msg, this.o.transport.identity);
    try {
      checkSize(msg.body, this.o.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
      const body = decodeBody(msg.body, this.o.json5MaxBytes ?? JSON5_MAX_BYTES);
      if (typeof body.response_channel === 'string' && isReplyChannel(body.response_channel)) paths = { ...paths, responseChannel: body.response_channel };
      checkBorderFields(body);
      const who = identify(msg, body);
      requestId = who.id;
      const policy = policyFor(this.o.policy, publisher);
      if (msg.headers[RESUME_HEADER] && trustsOwnHeaders(msg, this.o.transport.identity) && this.adoptResumed(who.id, msg)) return;
      if (!action) throw new BosunError('unknown_channel', `no action listens on channel "${msg.channel}"`, { retryable: false });
      const input = validate(action.schema, body);
      paths = { ...paths, format: action.responseFormatOf?.(input) ?? 'envelope' };
      const rc = action.replyChannelOf?.(input);
      if (rc) paths.responseChannel = rc;
      else if (action.channel === 'monitor_container_status') delete paths.responseChannel;
      const outcome = await this.runAction(action, input, msg, who, policy, publisher);
      const env = successEnvelope(action.channel, who.id, outcome, this.o.clock.now() - started);
      const owed = this.inflight.get(who.id)?.msg ?? msg;
      this.inflight.delete(who.id);
      await this.settle(owed, planReplies(env, paths));
      this.remember(who.id);
      this.o.metrics?.observe(msg.channel, env.ok ? 'ok' : 'failed', this.o.clock.now() - started);
      if (outcome.afterSettle) await outcome.afterSettle().catch((e) => this.o.log.warn({ err: (e as Error).message, requestId }, 'cleanup after reply failed'));
    } catch (e) {
      const owed = this.inflight.get(requestId)?.msg ?? msg;
      this.inflight.delete(requestId);
      await this.fail(owed, msg, toBosunError(e), requestId, paths, started, publisher);
    }
  }

  private async runAction(
    action: ActionDefinition, input: unknown, msg: InboundMessage, who: ReturnType<typeof identify>, policy: Policy, publisher: string | undefined,
  ): Promise<ActionOutcome> {
    const ownCopy = trustsOwnHeaders(msg, this.o.transport.identity);
    const repeat = msg.redelivered || (ownCopy && (Boolean(msg.headers[RESUME_HEADER]) || attemptsOf(msg) > 0));
    const kind = runKindOf(action.channel, input);
    const release = kind ? await this.quotas.admit(policy.quotas, publisher, who.id, kind, repeat) : () => undefined;
    const entry: InFlight = { msg };
    this.inflight.set(who.id, entry);
    const checkpoint = this.scheduleCheckpoint(who.id, msg, entry, publisher);
    try {
      return await action.handle(input, {
        engine: this.o.engine,
        policy,
        log: this.o.log.child({ channel: msg.channel, request: who.id }),
        clock: this.o.clock,
        requestId: who.id,
        requestIdGiven: who.explicit,
        bodyHash: who.bodyHash,
        redelivered: repeat,
        channel: msg.channel,
        ...(publisher !== undefined ? { publisher } : {}),
        ...(this.o.pools ? { pools: this.o.pools } : {}),
        signal: this.stopCtl.signal,
        publish: (channel, body) => this.o.transport.publish(channel, JSON.stringify(body), { declare: true }),
      });
    } finally {
      clearInterval(checkpoint);
      release();
    }
  }

  private scheduleCheckpoint(requestId: string, original: InboundMessage, entry: InFlight, publisher: string | undefined): NodeJS.Timeout {
    return setInterval(() => {
      const owed = entry.msg;
      if (!owed) return;
      entry.msg = undefined;
      const headers = { ...owed.headers, [RESUME_HEADER]: '1' };
      void this.o.transport
        .publish(original.channel, owed.body, copyOptions(this.o.transport.identity, owed, requestId, publisher, headers))
        .then(() => owed.ack())
        .then(() => this.o.log.info({ requestId }, 'long run checkpointed: message republished, original acked'))
        .catch((e) => {
          entry.msg = owed;
          this.o.log.warn({ err: (e as Error).message, requestId }, 'checkpoint failed; will retry');
        });
    }, this.o.checkpointMs ?? 25 * 60_000);
  }

  /** A republished copy of a request: adopt it if the work is still running here, drop it if done. */
  private adoptResumed(requestId: string, msg: InboundMessage): boolean {
    const entry = this.inflight.get(requestId);
    if (entry) {
      entry.msg = msg;
      return true;
    }
    if (this.recentlyDone.has(requestId)) {
      void msg.ack();
      return true;
    }
    return false;
  }

  private remember(requestId: string): void {
    this.recentlyDone.add(requestId);
    if (this.recentlyDone.size > 10_000) this.recentlyDone.delete(this.recentlyDone.values().next().value as string);
  }

  private async settle(msg: InboundMessage | undefined, replies: OutboundReply[]): Promise<void> {
    for (const r of replies) {
      await this.o.transport.publish(r.channel, r.body, { declare: r.declare, messageId: r.messageId, ...(r.correlationId ? { correlationId: r.correlationId } : {}) });
    }
    await msg?.ack();
  }

  private async fail(
    owed: InboundMessage | undefined, msg: InboundMessage, err: BosunError, requestId: string, paths: ReplyPaths, started: number, publisher: string | undefined,
  ): Promise<void> {
    if (err.retryable && this.stopCtl.signal.aborted) {
      // Shutting down: hand the work back to the broker; the container keeps running and is found again.
      await owed?.nack({ requeue: true });
      return;
    }
    if (err.retryable) {
      const final = await this.retry(owed, msg, err, requestId, started, publisher);
      if (!final) return;
      err = final;
    }
    const env = errorEnvelope(msg.channel, requestId, err, this.o.clock.now() - started);
    this.o.log.warn({ channel: msg.channel, requestId, code: err.code, field: err.field, err: err.message }, 'message rejected');
    this.o.metrics?.observe(msg.channel, 'rejected', this.o.clock.now() - started);
    try {
      await this.o.transport.publish(this.errorsChannel, JSON.stringify(errorRecord(msg, err, requestId, started)), { declare: true, messageId: requestId });
    } catch (e) {
      this.o.log.error({ err: (e as Error).message, requestId }, 'could not park the rejected message; requeueing');
      await owed?.nack({ requeue: true });
      return;
    }
    // Parked: from here the message is settled whatever happens to the reply, so it is parked exactly once.
    // Each reply path on its own: a response_channel that refuses the reply must not silence reply_to.
    for (const r of planReplies(env, { ...paths, format: 'envelope' })) {
      await this.o.transport
        .publish(r.channel, r.body, { declare: r.declare, messageId: r.messageId, ...(r.correlationId ? { correlationId: r.correlationId } : {}) })
        .catch((e: unknown) => this.o.log.warn({ err: (e as Error).message, requestId, channel: r.channel }, 'rejected message parked, but its error reply could not be sent'));
    }
    await owed?.ack();
  }

  /**
   * A retryable failure: the message goes back with an attempt count (a republished copy, as
   * classic queues count nothing), and after maxAttempts it is parked. An engine outage is not
   * the message's fault and is not counted: it waits on the broker as before.
   * Returns the error to park with, or undefined when the message was handed back.
   */
  private async retry(owed: InboundMessage | undefined, msg: InboundMessage, err: BosunError, requestId: string, started: number, publisher: string | undefined): Promise<BosunError | undefined> {
    const counted = err.code !== 'engine_unavailable';
    const attempts = attemptsOf(msg) + (counted ? 1 : 0);
    const max = this.o.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (counted && attempts >= max) {
      return new BosunError('redelivery_limit', `gave up after ${attempts} attempts; last error ${err.code}: ${err.message}`, {
        retryable: false,
        details: { attempts, last_error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } },
      });
    }
    this.o.log.warn({ err: err.message, code: err.code, requestId, attempts }, 'transient failure; requeueing');
    this.o.metrics?.observe(msg.channel, 'requeued', this.o.clock.now() - started);
    await sleep(backoffMs(Math.max(1, attempts), 500, 5000));
    if (!owed) return undefined;
    if (!counted) {
      await owed.nack({ requeue: true });
      return undefined;
    }
    try {
      await this.o.transport.publish(msg.channel, owed.body, copyOptions(this.o.transport.identity, owed, requestId, publisher, { ...owed.headers, [ATTEMPTS_HEADER]: String(attempts) }));
      await owed.ack();
    } catch (e) {
      this.o.log.warn({ err: (e as Error).message, requestId }, 'could not hand the message back with its attempt count; requeueing it as is');
      await owed.nack({ requeue: true });
    }
    return undefined;
  }
}
