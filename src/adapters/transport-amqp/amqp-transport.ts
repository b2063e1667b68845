/**
 * RabbitMQ (AMQP 0-9-1) transport with amqplib.
 * - Each channel is a durable queue of that exact name (default exchange works), also bound
 *   to the `bosun` topic exchange with the channel name as routing key.
 * - Manual acks, prefetch per subscription, publisher confirms on every publish.
 * - Reconnects with backoff after a broker restart and re-creates every subscription;
 *   publishes made while down wait (bounded) for the connection to come back.
 */
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { BosunError } from '../../domain/errors.js';
import {
  BOSUN_EXCHANGE, type ConsumeOptions, type MessageHandler, type PublishOptions, type Subscription, type Transport,
} from '../../ports/transport.js';
import { backoffMs, sleep } from '../../util/abort.js';
import type { Logger } from '../../util/log.js';
import { type ConsumerRecord, declareConsumerQueue, deliver, publishOnce } from './amqp-consumers.js';
import { amqpUser, checkShortStrings } from './amqp-names.js';

/** How often consumers that lost their channel outside the usual paths are looked for. */
const CONSUMER_WATCHDOG_MS = 2_000;

const PUBLISH_WAIT_MS = 30_000;

export class AmqpTransport implements Transport {
  readonly kind = 'amqp' as const;
  /** The user in the URL (RabbitMQ's default guest when none): the only user_id this connection may publish with. */
  readonly identity: string;
  private model?: ChannelModel;
  private pubChannel?: ConfirmChannel;
  private readonly consumers = new Set<ConsumerRecord>();
  private readonly declared = new Set<string>();
  /** Publish channels the broker closed: a failed confirm on an open one was a nack. */
  private readonly closedChannels = new WeakSet<ConfirmChannel>();
  private closing = false;
  private watchdog?: NodeJS.Timeout;
  private connecting?: Promise<void>;
  /** The first open, shared by concurrent connect calls. */
  private opening?: Promise<void>;
  private connectedWaiters: (() => void)[] = [];

  constructor(
    private readonly url: string,
    private readonly log: Logger,
    /** connectionName shows in the broker's management tools (and lets tests find their own connection). */
    private readonly opts: { connectionName?: string } = {},
  ) {
    this.identity = amqpUser(url);
  }

  isConnected(): boolean {
    return this.pubChannel !== undefined;
  }

  /**
   * Idempotent: callers that share a transport (a composition root and the NodeAgent it starts)
   * each call connect; a second open() would replace the model and orphan the first socket.
   */
  async connect(): Promise<void> {
    if (this.closing) throw new BosunError('broker_error', 'transport is closed');
    if (this.connecting) await this.connecting;
    if (!this.model) {
      this.opening ??= this.open().finally(() => (this.opening = undefined));
      await this.opening;
    }
    // Self-repair: a consumer left without a channel while the connection lives (a close that
    // raced a reconnect) is started again instead of going quiet for good.
    this.watchdog ??= setInterval(() => {
      if (this.closing || !this.model || this.connecting) return;
      for (const c of this.consumers) {
        if (c.cancelled || c.starting || c.amqpChannel) continue;
        this.log.warn({ channel: c.channel }, 'amqp consumer had no channel; starting it again');
        void this.startConsumer(c).catch((e: unknown) => this.log.warn({ err: (e as Error).message, channel: c.channel }, 'amqp consumer restart failed'));
      }
    }, CONSUMER_WATCHDOG_MS);
    this.watchdog.unref();
  }

  private async open(): Promise<void> {
    // noDelay: with Nagle on (amqplib's default) a frame of a few KiB or more waits for the
    // broker's delayed ACK, about 40 ms, before its last segment goes out.
    const model = await amqp.connect(this.url, { noDelay: true, clientProperties: { connection_name: this.opts.connectionName ?? `bosun-${process.pid}` } });
    model.on('error', (e: Error) => this.log.warn({ err: e.message }, 'amqp connection error'));
    model.on('close', () => this.onConnectionLost(model));
    const pub = await this.openPublishChannel(model);
    await pub.assertExchange(BOSUN_EXCHANGE, 'topic', { durable: true });
    this.model = model;
    this.pubChannel = pub;
    this.declared.clear();
    for (const c of this.consumers) if (!c.cancelled) await this.startConsumer(c);
    for (const w of this.connectedWaiters.splice(0)) w();
  }

  /** The confirm channel for publishing; re-opened if the broker closes it while the connection lives. */
  private async openPublishChannel(model: ChannelModel): Promise<ConfirmChannel> {
    const pub = await model.createConfirmChannel();
    pub.on('error', (e: Error) => this.log.warn({ err: e.message }, 'amqp publish channel error'));
    pub.on('close', () => {
      this.closedChannels.add(pub);
      if (this.pubChannel !== pub || this.closing || this.model !== model) return;
      this.pubChannel = undefined;
      void this.openPublishChannel(model).then(
        (next) => {
          this.pubChannel = next;
          for (const w of this.connectedWaiters.splice(0)) w();
        },
        (e: unknown) => this.log.warn({ err: (e as Error).message }, 'could not reopen the publish channel'),
      );
    });
    return pub;
  }

  private onConnectionLost(model: ChannelModel): void {
    if (this.model !== model) return;
    this.model = undefined;
    this.pubChannel = undefined;
    for (const c of this.consumers) {
      c.amqpChannel = undefined;
      c.consumerTag = undefined;
    }
    if (this.closing) return;
    this.log.warn('amqp connection lost; reconnecting');
    this.connecting ??= this.reconnectLoop().finally(() => (this.connecting = undefined));
  }

  private async reconnectLoop(): Promise<void> {
    for (let attempt = 0; !this.closing; attempt++) {
      await sleep(backoffMs(attempt, 200, 5_000));
      if (this.closing) return;
      try {
        await this.open();
        this.log.info({ attempt }, 'amqp reconnected');
        return;
      } catch (e) {
        this.log.warn({ attempt, err: (e as Error).message }, 'amqp reconnect failed');
      }
    }
  }

  private async waitConnected(): Promise<ConfirmChannel> {
    if (this.pubChannel) return this.pubChannel;
    if (this.closing) throw new BosunError('broker_error', 'transport is closed');
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new BosunError('broker_error', `broker not reachable for ${PUBLISH_WAIT_MS} ms`)), PUBLISH_WAIT_MS);
      this.connectedWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
    if (!this.pubChannel) throw new BosunError('broker_error', 'broker connection lost again');
    return this.pubChannel;
  }

  /**
   * Declares on a throwaway channel: if the queue already exists with other arguments (e.g. an
   * exclusive reply queue), the broker's refusal closes only that channel, and the queue is
   * there to publish to anyway.
   */
  async declareChannel(channel: string): Promise<void> {
    await this.waitConnected();
    if (this.declared.has(channel) || !this.model) return;
    const ch = await this.model.createChannel();
    ch.on('error', () => undefined);
    try {
      await ch.assertQueue(channel, { durable: true });
      await ch.bindQueue(channel, BOSUN_EXCHANGE, channel);
    } catch (e) {
      this.log.debug({ channel, err: (e as Error).message }, 'queue exists with other arguments; publishing to it as is');
    } finally {
      await ch.close().catch(() => undefined);
    }
    this.declared.add(channel);
  }

  async consume(channel: string, handler: MessageHandler, opts: ConsumeOptions): Promise<Subscription> {
    const rec: ConsumerRecord = { channel, handler, opts, cancelled: false };
    this.consumers.add(rec);
    await this.waitConnected();
    await this.startConsumer(rec);
    return {
      cancel: async () => {
        rec.cancelled = true;
        this.consumers.delete(rec);
        const ch = rec.amqpChannel;
        if (ch && rec.consumerTag) await ch.cancel(rec.consumerTag).catch(() => undefined);
        if (rec.opts.ephemeral && ch) await ch.close().catch(() => undefined);
      },
    };
  }

  private async startConsumer(rec: ConsumerRecord): Promise<void> {
    const model = this.model;
    if (!model || rec.starting) return;
    rec.starting = true;
    const attempt = (rec.attempts = (rec.attempts ?? 0) + 1);
    try {
      await this.startConsumerOn(model, rec);
    } catch (e) {
      // a half-made consumer channel is dropped, so the watchdog (or the next reconnect) starts it cleanly
      if (rec.attempts === attempt) {
        rec.amqpChannel = undefined;
        rec.consumerTag = undefined;
      }
      throw e;
    } finally {
      rec.starting = false;
    }
  }

  private async startConsumerOn(model: ChannelModel, rec: ConsumerRecord): Promise<void> {
    const ch = await model.createChannel();
    ch.on('error', (e: Error) => this.log.warn({ err: e.message, channel: rec.channel }, 'amqp consumer channel error'));
    ch.on('close', () => {
      // A channel closed by the broker (e.g. consumer timeout) while the connection lives: start again.
      if (rec.amqpChannel !== ch || rec.cancelled || this.closing || this.model !== model) return;
      rec.amqpChannel = undefined;
      void sleep(500).then(() => (rec.cancelled || this.model !== model ? undefined : this.startConsumer(rec).catch(() => undefined)));
    });
    rec.amqpChannel = ch;
    await declareConsumerQueue(ch, rec);
    const { consumerTag } = await ch.consume(rec.channel, (m) => {
      if (m) void deliver(rec, ch, m, this.log);
    });
    rec.consumerTag = consumerTag;
  }

  async publish(channel: string, body: Buffer | string, opts: PublishOptions = {}): Promise<void> {
    if (opts.declare) await this.declareChannel(channel);
    await this.confirmedPublish('', channel, body, opts);
  }

  async publishRouted(exchange: string, routingKey: string, body: Buffer | string, opts: PublishOptions = {}): Promise<void> {
    const ch = await this.waitConnected();
    if (!this.declared.has(`exchange:${exchange}`)) {
      await ch.assertExchange(exchange, 'topic', { durable: true });
      this.declared.add(`exchange:${exchange}`);
    }
    await this.confirmedPublish(exchange, routingKey, body, opts);
  }

  /**
   * Resolves once the broker confirms. A publish caught by a connection loss is retried on the
   * next connection (at least once: the message may have landed; consumers dedupe by message id).
   */
  private async confirmedPublish(exchange: string, routingKey: string, body: Buffer | string, opts: PublishOptions): Promise<void> {
    const content = typeof body === 'string' ? Buffer.from(body) : body;
    checkShortStrings(routingKey, opts);
    for (let attempt = 0; ; attempt++) {
      const ch = await this.waitConnected();
      try {
        await publishOnce(ch, exchange, routingKey, content, opts);
        return;
      } catch (e) {
        if (this.closing || attempt >= 5) throw e;
        // A nack on a channel still open is the broker refusing this message (e.g. a full
        // reject-publish queue): the channel is fine and retrying here cannot help; the caller
        // counts it as an attempt. Resetting the channel would stall every other publish.
        if (this.pubChannel === ch && !this.closedChannels.has(ch) && this.model) {
          throw new BosunError('broker_error', `the broker refused the message for ${routingKey} (nack)`, { cause: e, details: { nack: true } });
        }
        await sleep(backoffMs(attempt, 100, 2_000));
        if (this.pubChannel === ch) this.pubChannel = undefined;
        if (!this.model) this.log.debug({ routingKey }, 'publish waits for the broker connection');
        else if (!this.pubChannel) this.pubChannel = await this.openPublishChannel(this.model).catch(() => undefined);
      }
    }
  }

  async depth(channel: string): Promise<number> {
    const model = this.model;
    if (!model) throw new BosunError('broker_error', 'not connected');
    const ch = await model.createChannel();
    ch.on('error', () => undefined);
    try {
      const q = await ch.checkQueue(channel);
      return q.messageCount;
    } catch {
      return 0;
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  /** Deletes a queue (tests and `bosun` housekeeping only). */
  async deleteChannel(channel: string): Promise<void> {
    const ch = await this.waitConnected();
    await ch.deleteQueue(channel);
    this.declared.delete(channel);
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.watchdog) clearInterval(this.watchdog);
    for (const c of this.consumers) c.cancelled = true;
    this.consumers.clear();
    const model = this.model;
    this.model = undefined;
    this.pubChannel = undefined;
    await model?.close().catch(() => undefined);
  }
}
