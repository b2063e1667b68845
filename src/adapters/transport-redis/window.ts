/**
 * The prefetch window shared by both subscription loops: tracks handed-out, unsettled messages,
 * lets the loop sleep until a slot frees up or the subscription stops, and runs handlers.
 */
import type { Logger } from '../../util/log.js';
import type { InboundMessage, MessageHandler } from '../../ports/transport.js';
import { errMessage } from './codec.js';

export class Window {
  private readonly inFlight = new Set<string>();
  private wake: (() => void) | undefined;
  readonly abort = new AbortController();

  constructor(
    readonly prefetch: number,
    private readonly handler: MessageHandler,
    private readonly log: Logger,
  ) {
    if (!Number.isInteger(prefetch) || prefetch < 1) throw new RangeError(`prefetch must be a positive integer, got ${prefetch}`);
  }

  get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  free(): number {
    return this.prefetch - this.inFlight.size;
  }

  has(id: string): boolean {
    return this.inFlight.has(id);
  }

  /** Frees the slot of `id` (settled, or abandoned by a failing handler). */
  release(id: string): void {
    if (this.inFlight.delete(id)) this.poke();
  }

  poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  stop(): void {
    this.abort.abort();
    this.poke();
  }

  /** Resolves when a slot is free, something poked the loop, or the subscription stopped. */
  waitForSlot(): Promise<void> {
    if (this.free() > 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  /**
   * Hands `msg` to the handler (not awaited by the loop: up to `prefetch` run at once).
   * A handler that throws without settling gives up its slot; the message stays owned by the broker
   * (for a group: pending, so it is redelivered after the claim timeout).
   */
  dispatch(id: string, msg: InboundMessage, isSettled: () => boolean): void {
    this.inFlight.add(id);
    void this.handler(msg).catch((err: unknown) => {
      this.log.error({ err: errMessage(err), channel: msg.channel, messageId: msg.messageId }, 'message handler failed');
      if (!isSettled()) this.release(id);
    });
  }
}

/** Settles once: the first ack/nack wins, later calls are no-ops; a failed settle can be retried. */
export function onceSettle(
  doAck: () => Promise<void>,
  doNack: (requeue: boolean) => Promise<void>,
  done: () => void,
): { ack(): Promise<void>; nack(o: { requeue: boolean }): Promise<void>; settled(): boolean } {
  let settled = false;
  const run = async (work: () => Promise<void>) => {
    if (settled) return;
    settled = true;
    try {
      await work();
    } catch (err) {
      settled = false;
      throw err;
    }
    done();
  };
  return {
    ack: () => run(doAck),
    nack: (o) => run(() => doNack(o.requeue)),
    settled: () => settled,
  };
}
