/**
 * Sends the end reply of executions started with a reply path, whichever agent ended them.
 * The agent that commits the end calls `sendFor(id)` at once (the executor's onEnd); a sweep
 * catches what no one sent — an agent killed between its commit and the publish, or a publish
 * that failed. Each reply is claimed in the store before it is published and marked sent
 * after, so two agents never both send it; the only duplicate left is an agent dying after
 * the broker took the reply but before the mark, and that resend has the same message id.
 */
import type { Transport } from '../../ports/transport.js';
import type { ExecutionRecord, WorkflowStore } from '../../ports/workflow-store.js';
import { publishOptionsOf } from '../../pipeline/reply.js';
import type { Logger } from '../../util/log.js';
import { planEndReplies } from './end-reply.js';
import type { PendingStartReplies } from './start-replies.js';

export interface EndReplySenderOptions {
  store: WorkflowStore;
  transport: Pick<Transport, 'publish'>;
  log: Logger;
  /** How long a claim keeps other agents off a reply (default 30 s). */
  claimMs?: number;
  /** How often the store is swept for replies owed (default 5 s). */
  sweepMs?: number;
  /** Starts of this process whose reply is not out yet: their end reply waits for it. */
  startReplies?: PendingStartReplies;
}

export class EndReplySender {
  private timer: NodeJS.Timeout | undefined;
  private inFlight = new Set<Promise<void>>();

  constructor(private readonly o: EndReplySenderOptions) {}

  start(): void {
    if (this.timer) return;
    this.track(this.send());
    this.timer = setInterval(() => this.track(this.send()), this.o.sweepMs ?? 5_000);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all([...this.inFlight]);
  }

  /** The executor's onEnd: reply for this execution now. */
  sendFor(rec: ExecutionRecord): Promise<void> {
    if (rec.replyTo === undefined) return Promise.resolve();
    return this.track(this.send([rec.id]));
  }

  private track(p: Promise<void>): Promise<void> {
    this.inFlight.add(p);
    return p.finally(() => this.inFlight.delete(p));
  }

  private async send(ids?: string[]): Promise<void> {
    let claimed: ExecutionRecord[];
    try {
      claimed = await this.o.store.claimEndReplies(this.o.claimMs ?? 30_000, 50, ids);
    } catch (e) {
      this.o.log.warn({ err: (e as Error).message }, 'workflow end replies: claim failed; the sweep tries again');
      return;
    }
    for (const rec of claimed) {
      try {
        await this.o.startReplies?.out(rec.id);
        for (const r of planEndReplies(rec)) await this.o.transport.publish(r.channel, r.body, publishOptionsOf(r));
        await this.o.store.markEndReplySent(rec.id, rec.fence);
      } catch (e) {
        // The claim expires and the sweep sends it again.
        this.o.log.warn({ execution: rec.id, err: (e as Error).message }, 'workflow end reply not sent yet');
      }
    }
  }
}
