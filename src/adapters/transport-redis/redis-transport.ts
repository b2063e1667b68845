/**
 * Transport over Redis (ioredis 5). A channel is the stream whose key is the channel name; consumers share
 * the group `bosun` on it.
 *
 * Guarantees:
 *  - streams (publish / consume): AT LEAST ONCE. publish resolves after the XADD reply. A message stays
 *    pending until ack; a consumer that dies holding it loses it to XAUTOCLAIM by any consumer of the group
 *    once it has been idle for `claimTimeoutMs` (default 30 s; also a slow handler past that may see a
 *    duplicate elsewhere), and a consumer restarting under the same `consumerId` re-reads its own pending
 *    entries first. Both arrive with redelivered=true.
 *  - plain pub/sub (PUBLISH to the channel name, seed 000): AT MOST ONCE, see pubsub-bridge.ts.
 *  - publishRouted(exchange, key): Redis has no exchanges; `exchange` is ignored. The body is XADDed to the
 *    stream `key` (capped ~10000) and PUBLISHed on the pub/sub channel `key`, atomically (one script).
 *    An agent consuming `key` gets it once (the bridge skips the echo).
 *  - Streams are trimmed with MAXLEN ~ (default 100000): a backlog beyond that loses its oldest entries.
 *  - depth(): entries not yet delivered to the group (XINFO GROUPS `lag`; when Redis reports it as null,
 *    e.g. after XDEL on 7.0, the entries after last-delivered-id are counted with XRANGE). Without a group
 *    (nobody declared the channel) it is XLEN. Delivered-but-unacked entries are not counted (like AMQP).
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../../util/log.js';
import { BosunError } from '../../domain/errors.js';
import type { ConsumeOptions, MessageHandler, PublishOptions, Subscription, Transport } from '../../ports/transport.js';
import { encodeFields, errMessage, nextId, parseEntries, parseFlat } from './codec.js';
import { EphemeralSubscription } from './ephemeral-subscription.js';
import { GROUP, GroupSubscription, ensureGroup } from './group-subscription.js';
import { PUBLISH_ROUTED, PubSubBridge, leaseKey, routedKey } from './pubsub-bridge.js';

export interface RedisTransportOptions {
  /** Idle time after which another consumer takes over a pending entry (XAUTOCLAIM). Default 30 000. */
  claimTimeoutMs?: number;
  /** Stable consumer name base (e.g. the agent id) so a restart re-reads its own pending entries. */
  consumerId?: string;
  /** Approximate cap of channel streams. Default 100 000. */
  maxLen?: number;
  /** Approximate cap of publishRouted streams. Default 10 000. */
  routedMaxLen?: number;
  /** TTL of the pub/sub bridge lease. Default 5000. */
  bridgeLeaseMs?: number;
}

const DEPTH_PAGE = 1000;

export class RedisTransport implements Transport {
  readonly kind = 'redis' as const;
  private cmd: Redis | undefined;
  private sub: Redis | undefined;
  private bridge: PubSubBridge | undefined;
  private readonly subs = new Set<Subscription>();
  private readonly names = new Map<string, number>();
  private readonly claimTimeoutMs: number;
  private readonly consumerId: string;
  private readonly maxLen: number;
  private readonly routedMaxLen: number;
  private readonly leaseMs: number;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly log: Logger,
    opts: RedisTransportOptions = {},
  ) {
    this.claimTimeoutMs = opts.claimTimeoutMs ?? 30_000;
    this.consumerId = opts.consumerId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.maxLen = opts.maxLen ?? 100_000;
    this.routedMaxLen = opts.routedMaxLen ?? 10_000;
    this.leaseMs = opts.bridgeLeaseMs ?? 5_000;
  }

  async connect(): Promise<void> {
    if (this.cmd) return;
    if (this.closed) throw new BosunError('broker_error', 'redis transport is closed');
    const cmd = new Redis(this.url, { lazyConnect: true, connectionName: this.connName('cmd') });
    this.watch(cmd, 'command');
    this.cmd = cmd;
    try {
      await cmd.connect();
    } catch (e) {
      this.cmd = undefined;
      cmd.disconnect();
      throw new BosunError('broker_error', `cannot connect to redis: ${errMessage(e)}`, { cause: e });
    }
  }

  isConnected(): boolean {
    return !this.closed && this.cmd?.status === 'ready';
  }

  async declareChannel(channel: string): Promise<void> {
    await ensureGroup(this.conn(), channel);
  }

  async publish(channel: string, body: Buffer | string, opts: PublishOptions = {}): Promise<void> {
    if (opts.declare) await this.declareChannel(channel);
    await this.conn().call('XADD', channel, 'MAXLEN', '~', this.maxLen, '*', ...encodeFields(body, opts));
  }

  async publishRouted(_exchange: string, routingKey: string, body: Buffer | string, opts: PublishOptions = {}): Promise<void> {
    const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (opts.declare) await this.declareChannel(routingKey);
    await this.conn().eval(PUBLISH_ROUTED, 3, routingKey, leaseKey(routingKey), routedKey(routingKey, buf), this.routedMaxLen, this.leaseMs * 2, buf, ...encodeFields(buf, opts));
  }

  async depth(channel: string): Promise<number> {
    const cmd = this.conn();
    let groups: unknown;
    try {
      groups = await cmd.call('XINFO', 'GROUPS', channel);
    } catch (e) {
      if (errMessage(e).includes('no such key')) return 0;
      throw e;
    }
    const group = (Array.isArray(groups) ? groups : []).map(parseFlat).find((g) => g['name'] === GROUP);
    if (!group) return Number(await cmd.call('XLEN', channel));
    const lag = group['lag'];
    if (typeof lag === 'number') return lag;
    // lag is null when Redis cannot compute it (tombstones, Redis 7.0 quirks, or < 7.0): count exactly.
    let from = nextId(String(group['last-delivered-id'] ?? '0-0'));
    let count = 0;
    for (;;) {
      const page = parseEntries(await cmd.call('XRANGE', channel, from, '+', 'COUNT', DEPTH_PAGE));
      count += page.length;
      const last = page[page.length - 1];
      if (!last || page.length < DEPTH_PAGE) return count;
      from = nextId(last.id);
    }
  }

  async consume(channel: string, handler: MessageHandler, opts: ConsumeOptions): Promise<Subscription> {
    const cmd = this.conn();
    if (opts.bind) this.log.debug({ channel, bind: opts.bind }, 'redis transport ignores AMQP bindings');
    const blocking = cmd.duplicate({ lazyConnect: true, connectionName: this.connName(`read:${channel}`) });
    this.watch(blocking, `blocking ${channel}`);
    let sub: GroupSubscription | EphemeralSubscription | undefined;
    let bridged = false;
    try {
      await blocking.connect();
      const onCancelled = () => {
        if (sub) this.subs.delete(sub);
      };
      if (opts.ephemeral) {
        sub = new EphemeralSubscription({ channel, prefetch: opts.prefetch, handler, cmd, blocking, log: this.log, onCancelled });
        await sub.start();
        this.subs.add(sub);
        return sub;
      }
      await this.declareChannel(channel);
      const group: GroupSubscription = new GroupSubscription({
        channel,
        consumer: this.consumerName(channel),
        prefetch: opts.prefetch,
        claimTimeoutMs: this.claimTimeoutMs,
        maxLen: this.maxLen,
        handler,
        cmd,
        blocking,
        log: this.log,
        onCancelled: async () => {
          this.subs.delete(group);
          await this.bridge?.remove(channel);
        },
      });
      sub = group;
      await this.pubsub().add(channel);
      bridged = true;
      await group.start();
      this.subs.add(group);
      return group;
    } catch (e) {
      blocking.disconnect();
      if (bridged) await this.bridge?.remove(channel);
      throw e instanceof BosunError ? e : new BosunError('broker_error', `cannot consume ${channel}: ${errMessage(e)}`, { cause: e });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subs].map((s) => s.cancel().catch((e: unknown) => this.log.warn({ err: errMessage(e) }, 'cancel failed'))));
    await this.bridge?.close();
    for (const c of [this.sub, this.cmd]) await c?.quit().catch(() => c.disconnect());
    this.sub = undefined;
    this.cmd = undefined;
  }

  private conn(): Redis {
    if (!this.cmd || this.closed) throw new BosunError('broker_error', 'redis transport is not connected');
    return this.cmd;
  }

  /** One consumer name per subscription; the first one on a channel is the bare consumerId (restart-stable). */
  private consumerName(channel: string): string {
    const n = this.names.get(channel) ?? 0;
    this.names.set(channel, n + 1);
    return n === 0 ? this.consumerId : `${this.consumerId}#${n}`;
  }

  private pubsub(): PubSubBridge {
    if (!this.bridge) {
      const sub = this.conn().duplicate({ connectionName: this.connName('sub') });
      this.watch(sub, 'subscriber');
      this.sub = sub;
      this.bridge = new PubSubBridge({ cmd: this.conn(), sub, me: this.consumerId, leaseMs: this.leaseMs, maxLen: this.maxLen, log: this.log });
    }
    return this.bridge;
  }

  /** CLIENT SETNAME value (`bosun:<consumerId>:<role>`), so operators can tell the connections apart. */
  connName(role: string): string {
    return `bosun:${this.consumerId}:${role}`.replace(/\s/g, '_');
  }

  private watch(conn: Redis, role: string): void {
    conn.on('error', (err: unknown) => this.log.warn({ err: errMessage(err), role }, 'redis connection error'));
  }
}
