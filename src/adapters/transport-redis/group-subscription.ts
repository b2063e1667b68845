/**
 * Durable consumer-group subscription on one stream (channel name = stream key, group `bosun`).
 *
 * Loop, on a dedicated connection (blocking reads never stall the shared command connection):
 *  1. on start, re-read this consumer's own pending entries (XREADGROUP ... 0): redelivered=true;
 *  2. every claimTimeout/2, XAUTOCLAIM entries idle longer than claimTimeout from crashed consumers: redelivered=true;
 *  3. otherwise XREADGROUP BLOCK COUNT <free prefetch slots> STREAMS key >.
 * ack = XACK. nack(requeue:false) = XACK (caller parked it first). nack(requeue:true) = MULTI{XADD copy
 * with `redelivered=1` and the same message_id; XACK original}: the copy is ready again at once for any
 * consumer of the group and counts in depth(), like an AMQP requeue (but at the tail, not the head).
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../../util/log.js';
import type { InboundMessage, MessageHandler, Subscription } from '../../ports/transport.js';
import { backoffMs, sleep } from '../../util/abort.js';
import { encodeFields, errMessage, parseAutoclaim, parseRead, republishOptions, toInbound, type StreamEntry } from './codec.js';
import { Window, onceSettle } from './window.js';

export const GROUP = 'bosun';

export interface GroupSubscriptionConfig {
  channel: string;
  consumer: string;
  prefetch: number;
  claimTimeoutMs: number;
  maxLen: number;
  handler: MessageHandler;
  /** Shared connection for acks, claims bookkeeping and group creation. */
  cmd: Redis;
  /** Dedicated connection for the blocking reads; owned (and quit) by this subscription. */
  blocking: Redis;
  log: Logger;
  onCancelled: () => Promise<void>;
}

export async function ensureGroup(cmd: Redis, stream: string): Promise<void> {
  try {
    await cmd.call('XGROUP', 'CREATE', stream, GROUP, '0', 'MKSTREAM');
  } catch (e) {
    if (!errMessage(e).includes('BUSYGROUP')) throw e;
  }
}

/**
 * Interrupts the loop's blocking read with CLIENT UNBLOCK (from another connection, so no reply is lost),
 * repeating until the loop has ended: an UNBLOCK can overtake the read it was meant for.
 */
export async function unblockUntil(loopDone: Promise<void>, blockingId: () => number | undefined, cmd: Redis): Promise<void> {
  const ended = new AbortController();
  const done = loopDone.finally(() => ended.abort());
  while (!ended.signal.aborted) {
    const id = blockingId();
    if (id !== undefined) await cmd.call('CLIENT', 'UNBLOCK', id).catch(() => undefined);
    await sleep(100, ended.signal);
  }
  await done;
}

export class GroupSubscription implements Subscription {
  private readonly w: Window;
  private loopDone: Promise<void> = Promise.resolve();
  private blockingId: number | undefined;
  private cancelling: Promise<void> | undefined;

  constructor(private readonly c: GroupSubscriptionConfig) {
    this.w = new Window(c.prefetch, c.handler, c.log);
  }

  async start(): Promise<void> {
    this.blockingId = Number(await this.c.blocking.call('CLIENT', 'ID'));
    this.c.blocking.on('ready', () => {
      void this.c.blocking.call('CLIENT', 'ID').then((id) => (this.blockingId = Number(id)), () => undefined);
    });
    this.loopDone = this.loop();
  }

  cancel(): Promise<void> {
    this.cancelling ??= this.doCancel();
    return this.cancelling;
  }

  private async doCancel(): Promise<void> {
    this.w.stop();
    await unblockUntil(this.loopDone, () => this.blockingId, this.c.cmd);
    await this.c.blocking.quit().catch(() => this.c.blocking.disconnect());
    // Forget this consumer name when it owns nothing (keeps XINFO CONSUMERS tidy); with pending entries it
    // must stay, or they would be lost instead of being claimed by others / re-read on restart.
    try {
      const pending = await this.c.cmd.call('XPENDING', this.c.channel, GROUP, '-', '+', 1, this.c.consumer);
      if (Array.isArray(pending) && pending.length === 0) await this.c.cmd.call('XGROUP', 'DELCONSUMER', this.c.channel, GROUP, this.c.consumer);
    } catch (e) {
      this.c.log.debug({ err: errMessage(e), channel: this.c.channel }, 'consumer cleanup skipped');
    }
    await this.c.onCancelled();
  }

  private get blockMs(): number {
    return Math.max(50, Math.min(5000, Math.floor(this.c.claimTimeoutMs / 2)));
  }

  private async loop(): Promise<void> {
    const { channel, consumer } = this.c;
    let ownCursor: string | undefined = '0';
    let claimCursor = '0-0';
    let nextClaimAt = 0;
    let attempt = 0;
    while (!this.w.stopped) {
      try {
        const slots = this.w.free();
        if (slots <= 0) {
          await this.w.waitForSlot();
          continue;
        }
        if (ownCursor !== undefined) {
          const raw = await this.c.blocking.callBuffer('XREADGROUP', 'GROUP', GROUP, consumer, 'COUNT', slots, 'STREAMS', channel, ownCursor);
          const entries = parseRead(raw);
          const last = entries[entries.length - 1];
          ownCursor = last?.id;
          this.deliver(entries, true);
        } else if (Date.now() >= nextClaimAt) {
          const raw = await this.c.blocking.callBuffer('XAUTOCLAIM', channel, GROUP, consumer, this.c.claimTimeoutMs, claimCursor, 'COUNT', slots);
          const res = parseAutoclaim(raw);
          claimCursor = res.next;
          if (claimCursor === '0-0') nextClaimAt = Date.now() + this.blockMs;
          this.deliver(res.entries, true);
        } else {
          const raw = await this.c.blocking.callBuffer('XREADGROUP', 'GROUP', GROUP, consumer, 'COUNT', slots, 'BLOCK', this.blockMs, 'STREAMS', channel, '>');
          this.deliver(parseRead(raw), false);
        }
        attempt = 0;
      } catch (e) {
        if (this.w.stopped) break;
        const msg = errMessage(e);
        this.c.log.warn({ err: msg, channel, attempt }, 'redis stream read failed; retrying');
        if (msg.includes('NOGROUP')) await ensureGroup(this.c.cmd, channel).catch(() => undefined);
        await sleep(backoffMs(attempt++), this.w.abort.signal);
      }
    }
  }

  private deliver(entries: StreamEntry[], redelivered: boolean): void {
    for (const e of entries) {
      if (this.w.has(e.id)) continue; // already in our hands (claimed back from ourselves)
      if (e.fields === undefined) {
        // Deleted while pending: nothing to deliver, drop it from the PEL.
        void this.c.cmd.call('XACK', this.c.channel, GROUP, e.id).catch(() => undefined);
        continue;
      }
      let msg: InboundMessage | undefined;
      const s = onceSettle(
        () => this.xack(e.id),
        (requeue) => (requeue && msg ? this.requeue(e.id, msg) : this.xack(e.id)),
        () => this.w.release(e.id),
      );
      msg = toInbound(this.c.channel, { id: e.id, fields: e.fields }, redelivered, s);
      this.w.dispatch(e.id, msg, s.settled);
    }
  }

  private async xack(id: string): Promise<void> {
    await this.c.cmd.call('XACK', this.c.channel, GROUP, id);
  }

  private async requeue(id: string, msg: InboundMessage): Promise<void> {
    const fields = encodeFields(msg.body, republishOptions(msg), true);
    const res = await this.c.cmd
      .multi()
      .call('XADD', this.c.channel, 'MAXLEN', '~', this.c.maxLen, '*', ...fields)
      .call('XACK', this.c.channel, GROUP, id)
      .exec();
    const failed = res?.find(([err]) => err);
    if (!res || failed) throw failed?.[0] ?? new Error('MULTI aborted');
  }
}
