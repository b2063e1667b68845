/**
 * Pub/sub -> stream bridge. Seed 000 senders PUBLISH to a channel name; every consuming agent SUBSCRIBEs to
 * it, but only the holder of the lease `bosun:bridge:<channel>` (SET NX PX, refreshed) XADDs what it hears
 * into the stream of the same name. The lease check and the XADD are one Lua script, so a message is added
 * by whoever holds the lease at that instant.
 *
 * Guarantees (pub/sub side): AT MOST ONCE into the stream. A PUBLISH with no agent subscribed, or while no
 * agent holds the lease (up to the lease TTL after the holder died), is lost. A duplicate needs a lease
 * handover between two agents' handling of the same message (a holder stalled longer than the TTL); rare,
 * not impossible. Once in the stream the message is at least once like any other.
 *
 * publishRouted() both XADDs and PUBLISHes the same body under the routing key; when an agent bridges that
 * key it bumps `bosun:routed:<key>:<sha1(body)>` so the bridge skips the echo instead of adding it twice.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../../util/log.js';
import { errMessage } from './codec.js';

export const leaseKey = (channel: string): string => `bosun:bridge:${channel}`;
export const routedKey = (channel: string, body: Buffer): string => `bosun:routed:${channel}:${createHash('sha1').update(body).digest('hex')}`;

const LEASE = `
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** KEYS: lease, stream, routed-echo counter. ARGV: me, maxlen, body. 1 added, 2 echo skipped, 0 not holder. */
const BRIDGE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local echo = tonumber(redis.call('GET', KEYS[3]) or '0')
if echo > 0 then redis.call('DECR', KEYS[3]) return 2 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'body', ARGV[3])
return 1`;

/** KEYS: stream, lease, routed-echo counter. ARGV: maxlen, echo ttl ms, body, field/value pairs... */
export const PUBLISH_ROUTED = `
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, 4))
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('INCR', KEYS[3])
  redis.call('PEXPIRE', KEYS[3], ARGV[2])
end
return redis.call('PUBLISH', KEYS[1], ARGV[3])`;

export interface BridgeConfig {
  cmd: Redis;
  sub: Redis;
  me: string;
  leaseMs: number;
  maxLen: number;
  log: Logger;
}

export class PubSubBridge {
  private readonly refs = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly c: BridgeConfig) {
    c.sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      void this.bridge(channel.toString('utf8'), message);
    });
  }

  async add(channel: string): Promise<void> {
    const n = this.refs.get(channel) ?? 0;
    this.refs.set(channel, n + 1);
    if (n > 0) return;
    await this.c.sub.subscribe(channel);
    await this.lease(channel);
    this.timer ??= setInterval(() => void this.refreshAll(), Math.max(100, Math.floor(this.c.leaseMs / 3)));
  }

  async remove(channel: string): Promise<void> {
    const n = this.refs.get(channel) ?? 0;
    if (n > 1) {
      this.refs.set(channel, n - 1);
      return;
    }
    this.refs.delete(channel);
    if (this.refs.size === 0) this.stopTimer();
    await this.c.sub.unsubscribe(channel).catch(() => undefined);
    await this.c.cmd.eval(RELEASE, 1, leaseKey(channel), this.c.me).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.stopTimer();
    const channels = [...this.refs.keys()];
    this.refs.clear();
    for (const ch of channels) await this.c.cmd.eval(RELEASE, 1, leaseKey(ch), this.c.me).catch(() => undefined);
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async refreshAll(): Promise<void> {
    for (const ch of this.refs.keys()) await this.lease(ch);
  }

  private async lease(channel: string): Promise<void> {
    try {
      await this.c.cmd.eval(LEASE, 1, leaseKey(channel), this.c.me, this.c.leaseMs);
    } catch (e) {
      this.c.log.warn({ err: errMessage(e), channel }, 'bridge lease refresh failed');
    }
  }

  private async bridge(channel: string, message: Buffer): Promise<void> {
    if (!this.refs.has(channel)) return;
    try {
      await this.c.cmd.eval(BRIDGE, 3, leaseKey(channel), channel, routedKey(channel, message), this.c.me, this.c.maxLen, message);
    } catch (e) {
      this.c.log.error({ err: errMessage(e), channel }, 'pub/sub message could not be bridged into the stream (lost)');
    }
  }
}
