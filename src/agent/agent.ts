/**
 * The single-host agent's transport loop: receive a message, run it through runAction, then
 * do what the result says — publish the replies (or park the message), ack or hand it back.
 * A message is acked only after its outcome is handled: replies confirmed by the broker, or
 * the message parked on bosun.errors. Engine/broker outages requeue it (with backoff).
 * Runs that outlive the broker's consumer timeout are checkpointed: the message is
 * republished (same request id) and the original acked, so it is never lost nor run twice.
 */
import type { ActionRegistry } from '../actions/registry.js';
import type { Policy } from '../domain/policy.js';
import type { Clock } from '../ports/clock.js';
import type { ContainerEngine } from '../ports/engine.js';
import { ERRORS_CHANNEL, type InboundMessage, type Subscription, type Transport } from '../ports/transport.js';
import type { MessageFacts, PipelineDeps, RunHooks } from '../pipeline/context.js';
import { publisherOf } from '../pipeline/border.js';
import { RunQuotas } from '../pipeline/quotas.js';
import { runAction } from '../pipeline/run-action.js';
import type { LedgerDeps } from '../pipeline/ledger.js';
import { sleep } from '../util/abort.js';
import type { Logger } from '../util/log.js';
import { RESUME_HEADER, attemptsOf, copyOptions, idWasGenerated, trustsOwnHeaders } from './copies.js';
import type { AgentMetrics } from './metrics.js';
import { Settler } from './settle.js';

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
  /** Run quotas shared with the workflow tasks of this agent (one count per publisher); its own when left out. */
  quotas?: RunQuotas;
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
  /** Run ledger shared with other agents (bosun agent --store). */
  ledger?: LedgerDeps;
}

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
  private readonly deps: PipelineDeps;
  private readonly settler: Settler;

  constructor(private readonly o: AgentOptions) {
    this.deps = {
      registry: o.registry,
      engine: o.engine,
      policy: o.policy,
      clock: o.clock,
      log: o.log,
      quotas: o.quotas ?? new RunQuotas(o.engine, () => o.clock.now()),
      publish: (channel, body, opts) => o.transport.publish(channel, body, opts),
      signal: this.stopCtl.signal,
      errorsChannel: this.errorsChannel,
      ...(o.maxBodyBytes !== undefined ? { maxBodyBytes: o.maxBodyBytes } : {}),
      ...(o.json5MaxBytes !== undefined ? { json5MaxBytes: o.json5MaxBytes } : {}),
      ...(o.maxAttempts !== undefined ? { maxAttempts: o.maxAttempts } : {}),
      ...(o.pools ? { pools: o.pools } : {}),
      ...(o.ledger ? { ledger: o.ledger } : {}),
    };
    this.settler = new Settler({
      transport: o.transport,
      log: o.log,
      ...(o.metrics ? { metrics: o.metrics } : {}),
      owed: (requestId, msg) => {
        const owed = this.inflight.get(requestId)?.msg ?? msg;
        this.inflight.delete(requestId);
        return owed;
      },
      done: (requestId) => this.remember(requestId),
      signal: this.stopCtl.signal,
    });
  }

  private get errorsChannel(): string {
    return this.o.errorsChannel ?? ERRORS_CHANNEL;
  }

  get channels(): string[] {
    return [...this.o.registry.keys()];
  }

  async start(): Promise<void> {
    await this.o.transport.declareChannel(this.errorsChannel);
    for (const action of this.o.registry.values()) {
      await this.o.transport.declareChannel(action.channel);
      const p = action.delivery.prefetch;
      const prefetch = p === 'concurrency' ? this.o.concurrency : Math.max(this.o.concurrency, p.atLeast);
      this.subs.push(await this.o.transport.consume(action.channel, (m) => this.onMessage(m), { prefetch }));
    }
    this.o.log.info({ channels: this.channels, concurrency: this.o.concurrency }, 'agent consuming');
  }

  /** Stops taking messages, lets in-flight work finish within the grace period, then requeues the rest. */
  async stop(): Promise<void> {
    await Promise.allSettled(this.subs.map((s) => s.cancel()));
    this.subs = [];
    const deadline = this.o.clock.now() + (this.o.shutdownGraceMs ?? 30_000);
    while (this.running > 0 && this.o.clock.now() < deadline) await sleep(50);
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
    const identity = this.o.transport.identity;
    const publisher = publisherOf(msg, identity);
    const facts: MessageFacts = {
      headers: msg.headers,
      redelivered: msg.redelivered,
      ownCopy: trustsOwnHeaders(msg, identity),
      resumed: Boolean(msg.headers[RESUME_HEADER]),
      attempts: attemptsOf(msg),
      copyOfIdless: Boolean(msg.messageId) && idWasGenerated(msg, identity),
      ...(msg.messageId !== undefined ? { messageId: msg.messageId } : {}),
      ...(msg.correlationId !== undefined ? { correlationId: msg.correlationId } : {}),
      ...(msg.replyTo !== undefined ? { replyTo: msg.replyTo } : {}),
      ...(msg.userId !== undefined ? { userId: msg.userId } : {}),
      ...(publisher !== undefined ? { publisher } : {}),
    };
    const hooks: RunHooks = {
      resumed: (requestId) => this.adoptResumed(requestId, msg),
      started: (requestId) => this.track(requestId, msg, publisher),
    };
    const result = await runAction(msg.channel, msg.body, { ...this.deps, message: facts, hooks });
    await this.settler.settle(msg, result, publisher);
  }

  /** Work in flight: its owed delivery is found by request id, and checkpointed while it runs long. */
  private track(requestId: string, original: InboundMessage, publisher: string | undefined): () => void {
    const entry: InFlight = { msg: original };
    this.inflight.set(requestId, entry);
    const timer = setInterval(() => {
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
    return () => clearInterval(timer);
  }

  /** A republished copy of a request: adopt it if the work is still running here, only ack it if done. */
  private adoptResumed(requestId: string, msg: InboundMessage): 'adopted' | 'done' | undefined {
    const entry = this.inflight.get(requestId);
    if (entry) {
      entry.msg = msg;
      return 'adopted';
    }
    return this.recentlyDone.has(requestId) ? 'done' : undefined;
  }

  private remember(requestId: string): void {
    this.recentlyDone.add(requestId);
    if (this.recentlyDone.size > 10_000) this.recentlyDone.delete(this.recentlyDone.values().next().value as string);
  }
}
