/**
 * One worker per handler: handlers never share a failure. A throwing handler is logged,
 * retried with backoff (retries, then given up for that event) and the others go on.
 * `state` handlers coalesce: while one run is busy, any number of new events collapse into
 * a single next run (which re-reads everything). `event` handlers get every event in order.
 */
import { isBosunError } from '../domain/errors.js';
import { backoffMs, sleep, withTimeout } from '../util/abort.js';
import type { Logger } from '../util/log.js';
import type { GlueContainer, GlueEvent, GlueHandler, HandlerConfig } from './types.js';

export interface WorkerOptions {
  retries: number;
  retryBaseMs: number;
  timeoutMs: number;
  /** Most queued events of an `event` handler; the oldest are dropped beyond it. */
  maxQueue: number;
}

export class HandlerWorker {
  private queue: GlueEvent[] = [];
  private running: Promise<void> | undefined;
  runs = 0;
  failures = 0;
  dropped = 0;

  constructor(
    readonly cfg: HandlerConfig,
    readonly handler: GlueHandler,
    private readonly snapshot: () => Promise<GlueContainer[]>,
    private readonly log: Logger,
    private readonly opts: WorkerOptions,
    private readonly signal: AbortSignal,
  ) {}

  enqueue(ev: GlueEvent): void {
    if (this.handler.kind === 'state') this.queue = [ev];
    else {
      this.queue.push(ev);
      if (this.queue.length > this.opts.maxQueue) {
        this.queue.shift();
        this.dropped++;
        this.log.warn({ handler: this.cfg.name, dropped: this.dropped }, 'handler queue full, oldest event dropped');
      }
    }
    if (!this.running) this.start();
  }

  private start(): void {
    const run: Promise<void> = this.drain().finally(() => {
      if (this.running === run) this.running = undefined;
      // an event enqueued while the drain was finishing must not wait for the next one
      if (this.queue.length > 0 && !this.signal.aborted) this.start();
    });
    this.running = run;
  }

  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Resolves when the queue is empty and nothing runs. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    for (let ev = this.queue.shift(); ev && !this.signal.aborted; ev = this.queue.shift()) {
      await this.runWithRetries(ev);
    }
  }

  private async runWithRetries(ev: GlueEvent): Promise<void> {
    const log = this.log.child({ handler: this.cfg.name, event: ev.event, container: ev.containerId.slice(0, 12) });
    for (let attempt = 0; ; attempt++) {
      this.runs++;
      try {
        await withTimeout(`handler ${this.cfg.name}`, this.opts.timeoutMs, (signal) => this.handler.handle({ event: ev, snapshot: this.snapshot, signal, log }), this.signal);
        return;
      } catch (e) {
        this.failures++;
        const retryable = !isBosunError(e) || e.retryable;
        const last = attempt >= this.opts.retries || !retryable || this.signal.aborted;
        log.error({ err: e, attempt: attempt + 1, willRetry: !last }, 'handler failed');
        if (last) return;
        // A state handler with a newer event queued re-reads everything anyway: run that instead.
        if (this.handler.kind === 'state' && this.queue.length > 0) return;
        await sleep(backoffMs(attempt, this.opts.retryBaseMs, 5_000), this.signal);
      }
    }
  }
}
