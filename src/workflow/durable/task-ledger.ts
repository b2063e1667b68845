/**
 * Task starts recorded in the run ledger, for executors on several engines sharing one store.
 * A task container is found again after a crash by its labels — on the engine that made it. An
 * executor on another engine cannot see it, so re-running the task there would run it twice.
 * Each task attempt (execution + token) is therefore claimed in the ledger, under
 * `<executor>@<engine id>`, before its runner starts it, and its outcome is stored before it is
 * reported. A second claimer after the first one's lease expired:
 * - same engine: runs the runner again, which adopts the container (labels);
 * - another engine: does not start it; the task fails with `bosun.TaskLost`, so the
 *   definition's Retry/Catch decides whether it runs anew (Step Functions' answer to a lost
 *   worker, as with a heartbeat timeout);
 * - the outcome was stored but never reported: that outcome is reported, nothing runs.
 */
import type { RunKey, RunLease, RunLedger, StoredReply } from '../../ports/run-ledger.js';
import { sleep } from '../../util/abort.js';
import { failure, type Finished, type TaskContext, type TaskOutcome, type TaskRunner } from './tasks.js';

export const TASK_LOST = 'bosun.TaskLost';
const LEDGER_CHANNEL = 'workflow.task';

export interface TaskLedgerDeps {
  ledger: RunLedger;
  /** The executor's owner name. */
  owner: string;
  /** The engine's own id (EngineInfo.id): tells the same engine from another. */
  engineId: string;
  leaseMs: number;
}

const engineOf = (holder: string): string => holder.slice(holder.lastIndexOf('@') + 1);

function stored(out: Finished): StoredReply[] {
  const body = out.ok ? { ok: true, output: out.output } : { ok: false, error: out.error, cause: out.cause };
  return [{ channel: LEDGER_CHANNEL, body: JSON.stringify(body) }];
}

function outcomeOf(replies: StoredReply[] | null): Finished {
  const body = replies?.[0]?.body;
  if (body === undefined) return failure(TASK_LOST, 'the task finished elsewhere but its outcome was not kept');
  return JSON.parse(body) as Finished;
}

export class LedgerGuardedRunner implements TaskRunner {
  constructor(private readonly inner: TaskRunner, private readonly d: TaskLedgerDeps) {}

  async run(ctx: TaskContext): Promise<TaskOutcome> {
    const key: RunKey = { channel: LEDGER_CHANNEL, publisher: '', requestId: `${ctx.executionId}/${ctx.command.token}` };
    const holder = `${this.d.owner}@${this.d.engineId}`;
    for (;;) {
      const c = await this.d.ledger.claim(key, holder, this.d.leaseMs);
      if (ctx.signal.aborted || ctx.detached.aborted) return failure('States.TaskFailed', 'the task was cancelled or handed over before it started');
      if (c.kind === 'held') {
        // The execution's lease moved here, the task's lease has not run out yet: wait for it.
        await sleep(Math.min(1000, Math.max(50, c.remainingMs)), AbortSignal.any([ctx.signal, ctx.detached]));
        continue;
      }
      if (c.kind === 'done') return outcomeOf((await this.d.ledger.get(key))?.replies ?? null);
      if (c.kind === 'unsent') return { ...outcomeOf(c.replies), afterReport: () => this.d.ledger.confirm(c.lease) };
      const before = c.previousHolder;
      if (c.lease.attempt > 1 && before !== undefined && engineOf(before) !== this.d.engineId) {
        const lost = failure(TASK_LOST, `task ${ctx.command.token} was started by ${before} on another engine, whose lease expired; its container cannot be seen from engine ${this.d.engineId}, so it is not started again here`);
        return this.finish(c.lease, lost);
      }
      return this.finish(c.lease, await this.runRenewing(ctx, c.lease));
    }
  }

  private async runRenewing(ctx: TaskContext, lease: RunLease): Promise<TaskOutcome> {
    const timer = setInterval(() => void this.d.ledger.renew(lease, this.d.leaseMs).catch(() => undefined), Math.max(50, Math.floor(this.d.leaseMs / 3)));
    try {
      return await this.inner.run(ctx);
    } finally {
      clearInterval(timer);
    }
  }

  private async finish(lease: RunLease, out: TaskOutcome): Promise<TaskOutcome> {
    if ('dispatched' in out) return out;
    await this.d.ledger.finish(lease, stored(out));
    const after = out.afterReport;
    return { ...out, afterReport: async () => { await this.d.ledger.confirm(lease); await after?.(); } };
  }
}
