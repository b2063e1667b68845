/**
 * Ephemeral subscription: plain XREAD (no group) of a stream from the id it had when `consume` was called
 * (the `$` position, fixed up front so nothing published after `consume` resolves is missed).
 * ack / nack(requeue:false) = XDEL of the entry; nack(requeue:true) = handed to the handler again locally
 * with redelivered=true. The stream key is deleted on cancel, and carries a TTL refreshed while the
 * subscription lives, so a crashed process does not leave it behind for long.
 * Nothing here survives a crash: that is the point of "ephemeral" (reply streams, temporary listeners).
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../../util/log.js';
import type { InboundMessage, MessageHandler, Subscription } from '../../ports/transport.js';
import { backoffMs, sleep } from '../../util/abort.js';
import { errMessage, parseFlat, parseRead, toInbound, type StreamEntry } from './codec.js';
import { Window, onceSettle } from './window.js';
import { unblockUntil } from './group-subscription.js';

const TTL_MS = 60_000;
const TTL_REFRESH_MS = 10_000;
const BLOCK_MS = 5_000;

export interface EphemeralConfig {
  channel: string;
  prefetch: number;
  handler: MessageHandler;
  cmd: Redis;
  blocking: Redis;
  log: Logger;
  onCancelled: () => void;
}

/** The stream's last generated id, or 0-0 when it does not exist yet. */
export async function lastGeneratedId(cmd: Redis, stream: string): Promise<string> {
  try {
    const info = parseFlat(await cmd.call('XINFO', 'STREAM', stream));
    const id = info['last-generated-id'];
    return typeof id === 'string' ? id : '0-0';
  } catch (e) {
    if (errMessage(e).includes('no such key')) return '0-0';
    throw e;
  }
}

export class EphemeralSubscription implements Subscription {
  private readonly w: Window;
  private readonly again: Array<{ id: string; entry: StreamEntry & { fields: Map<string, Buffer> } }> = [];
  private loopDone: Promise<void> = Promise.resolve();
  private blockingId: number | undefined;
  private cancelling: Promise<void> | undefined;

  constructor(private readonly c: EphemeralConfig) {
    this.w = new Window(c.prefetch, c.handler, c.log);
  }

  async start(): Promise<void> {
    const from = await lastGeneratedId(this.c.cmd, this.c.channel);
    this.blockingId = Number(await this.c.blocking.call('CLIENT', 'ID'));
    this.c.blocking.on('ready', () => {
      void this.c.blocking.call('CLIENT', 'ID').then((id) => (this.blockingId = Number(id)), () => undefined);
    });
    this.loopDone = this.loop(from);
  }

  cancel(): Promise<void> {
    this.cancelling ??= this.doCancel();
    return this.cancelling;
  }

  /** Interrupts a blocking XREAD (the loop then re-checks its local redelivery queue / stop flag). */
  private async unblock(): Promise<void> {
    if (this.blockingId !== undefined) await this.c.cmd.call('CLIENT', 'UNBLOCK', this.blockingId).catch(() => undefined);
  }

  private async doCancel(): Promise<void> {
    this.w.stop();
    await unblockUntil(this.loopDone, () => this.blockingId, this.c.cmd);
    await this.c.blocking.quit().catch(() => this.c.blocking.disconnect());
    await this.c.cmd.call('DEL', this.c.channel).catch((e: unknown) => this.c.log.warn({ err: errMessage(e), channel: this.c.channel }, 'ephemeral stream not deleted'));
    this.c.onCancelled();
  }

  private async loop(from: string): Promise<void> {
    let cursor = from;
    let attempt = 0;
    let ttlAt = 0;
    while (!this.w.stopped) {
      try {
        const slots = this.w.free();
        if (slots <= 0) {
          await this.w.waitForSlot();
          continue;
        }
        if (Date.now() >= ttlAt) {
          await this.c.cmd.call('PEXPIRE', this.c.channel, TTL_MS);
          ttlAt = Date.now() + TTL_REFRESH_MS;
        }
        // Checked right before the blocking read: a requeue also sends CLIENT UNBLOCK to cut the block short.
        const redo = this.again.splice(0, slots);
        if (redo.length > 0) {
          for (const r of redo) this.deliver(r.entry, true);
          continue;
        }
        const raw = await this.c.blocking.callBuffer('XREAD', 'COUNT', slots, 'BLOCK', BLOCK_MS, 'STREAMS', this.c.channel, cursor);
        for (const e of parseRead(raw)) {
          cursor = e.id;
          if (e.fields !== undefined) this.deliver({ id: e.id, fields: e.fields }, false);
        }
        attempt = 0;
      } catch (e) {
        if (this.w.stopped) break;
        this.c.log.warn({ err: errMessage(e), channel: this.c.channel, attempt }, 'redis ephemeral read failed; retrying');
        await sleep(backoffMs(attempt++), this.w.abort.signal);
      }
    }
  }

  private deliver(entry: StreamEntry & { fields: Map<string, Buffer> }, redelivered: boolean): void {
    const del = async () => {
      await this.c.cmd.call('XDEL', this.c.channel, entry.id);
    };
    let requeued = false;
    const s = onceSettle(
      del,
      async (requeue) => {
        if (requeue) requeued = true;
        else await del();
      },
      () => {
        this.w.release(entry.id);
        if (!requeued) return;
        this.again.push({ id: entry.id, entry });
        void this.unblock();
      },
    );
    const msg: InboundMessage = toInbound(this.c.channel, entry, redelivered, s);
    this.w.dispatch(entry.id, msg, s.settled);
  }
}
