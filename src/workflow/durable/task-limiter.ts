/**
 * A bound on task runs in flight on one agent across all executions. Tasks beyond it wait and
 * start as others finish, round-robin across executions (one execution's big Map must not
 * starve a small one): the next slot goes to the execution after the one served last, and
 * within an execution tasks start in the order they asked. A release is idempotent; a waiter
 * whose signal aborts (task cancelled) leaves the queue without taking a slot.
 * The executor takes a slot before a runner runs and frees it when the runner returns.
 */
export const DEFAULT_WORKFLOW_MAX_TASKS = 32;

export type Release = () => void;

interface Waiter { resolve: (r: Release) => void; reject: (e: Error) => void }

export class TaskLimiter {
  private inFlight = 0;
  /** Waiting tasks per execution, executions in the order they first waited. */
  private readonly queues = new Map<string, Waiter[]>();

  constructor(readonly max: number = DEFAULT_WORKFLOW_MAX_TASKS) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`expected a task bound of at least 1, got ${max}`);
  }

  get running(): number { return this.inFlight; }
  get waiting(): number { let n = 0; for (const q of this.queues.values()) n += q.length; return n; }

  /** Resolves with a release once a slot is this task's; rejects if `signal` aborts first. */
  acquire(executionId: string, signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(new Error('cancelled while waiting for a task slot'));
    if (this.inFlight < this.max && this.queues.size === 0) return Promise.resolve(this.take());
    return new Promise<Release>((resolve, reject) => {
      const w: Waiter = { resolve, reject };
      const q = this.queues.get(executionId) ?? [];
      q.push(w);
      this.queues.set(executionId, q);
      signal?.addEventListener('abort', () => {
        const i = q.indexOf(w);
        if (i < 0) return;
        q.splice(i, 1);
        if (q.length === 0) this.queues.delete(executionId);
        reject(new Error('cancelled while waiting for a task slot'));
      }, { once: true });
    });
  }

  private take(): Release {
    this.inFlight += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight -= 1;
      this.next();
    };
  }

  private next(): void {
    while (this.inFlight < this.max) {
      const first = this.queues.entries().next();
      if (first.done) return;
      const [id, q] = first.value;
      // round-robin: the served execution goes to the back of the line
      this.queues.delete(id);
      const w = q.shift()!;
      if (q.length > 0) this.queues.set(id, q);
      w.resolve(this.take());
    }
  }
}
