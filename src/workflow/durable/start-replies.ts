/**
 * Starts whose own reply is not out yet, in this process: an execution that ends that fast must
 * not have its end reply (which also goes to reply_to) overtake the start's reply. The executor's
 * poll can pick a new execution up before the start is answered, so waking it late is not enough.
 */
const MAX_WAIT_MS = 10_000;

export class PendingStartReplies {
  private readonly pending = new Map<string, { done: Promise<void>; resolve: () => void }>();

  /** The start's reply is being sent. */
  begin(executionId: string): void {
    if (this.pending.has(executionId)) return;
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    this.pending.set(executionId, { done, resolve });
    // A start whose reply never settles (parked, handed back) holds nothing for long.
    setTimeout(() => this.settled(executionId), MAX_WAIT_MS).unref();
  }

  /** The start's reply is out (or will not be). */
  settled(executionId: string): void {
    this.pending.get(executionId)?.resolve();
    this.pending.delete(executionId);
  }

  /** Resolves once the start's reply of this execution is out, at once when none is pending here. */
  async out(executionId: string): Promise<void> {
    await this.pending.get(executionId)?.done;
  }
}
