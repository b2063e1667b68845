/**
 * The durable executor: claims executions by lease, feeds their inbox events and due timers
 * to `decide` one at a time, commits each transition (fenced by the lease) and only then
 * carries out its commands — tasks through the task runners, whose reports go back through
 * the inbox. Everything it knows is in the store; after a crash a new executor claims the
 * executions, re-runs their unreported tasks (runners adopt what was already started) and
 * goes on. The in-process timers here are only wake-ups: the timer rows are the truth.
 */
import type { TaskLimiter } from './task-limiter.js';
import { systemClock, type Clock } from '../../ports/clock.js';
import { isControlEvent, isEnded, LeaseLostError, type Committed, type Consumed, type ControlEvent, type InboxEvent, type ExecutionLease, type ExecutionRecord, type WorkflowStore } from '../../ports/workflow-store.js';
import { decide, type Command, type ExecutionState, type HistoryEvent, type WorkflowEvent } from '../machine.js';
import { redrive, RedriveRefused } from '../redrive.js';
import { abortTransition, pauseTransition, resumeTransition, runtimeFailure, statusOf } from './control.js';
import { reportKey, resourceBase, type TaskOutcome, type TaskRunner } from './tasks.js';

export interface ExecutorOptions {
  store: WorkflowStore;
  /** Stable name of this agent: leases are held under it. */
  owner: string;
  runners: Record<string, TaskRunner>;
  /** Bounds task runs in flight across executions (a callback task holds its slot only until dispatched). */
  taskLimiter?: TaskLimiter;
  clock?: Clock;
  leaseMs?: number;
  /** How often the store is polled for new executions and events posted by others. */
  pollMs?: number;
  maxExecutions?: number;
  onEnd?: (record: ExecutionRecord) => void | Promise<void>;
  /** After each committed transition (progress display). */
  onCommit?: (executionId: string, history: HistoryEvent[]) => void;
  log?: (msg: string) => void;
}

interface Held {
  lease: ExecutionLease;
  state: ExecutionState | null;
  /** Transitions of one execution run one after another. */
  chain: Promise<void>;
  tasks: Map<string, { cancel: AbortController; detach: AbortController }>;
  dirty: boolean;
  /** PAUSED: only control events are decided; once none is left the lease is let go. */
  paused: boolean;
  /** What the last commit saw as the next inbox event: the drain decides it without reading the inbox again. */
  peeked?: Committed;
  /** Who started the execution: its tasks act under that publisher's policy and quotas. */
  starter?: string;
}

export class DurableExecutor {
  private readonly held = new Map<string, Held>();
  /** Tasks still running for executions this executor paused: handed back if it claims the execution again. */
  private readonly parked = new Map<string, Held['tasks']>();
  private readonly clock: Clock;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private stopped = true;
  private wake: (() => void) | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private renewTimer: NodeJS.Timeout | undefined;
  private firstClaim = true;

  constructor(private readonly o: ExecutorOptions) {
    this.clock = o.clock ?? systemClock;
    this.leaseMs = o.leaseMs ?? 30_000;
    this.pollMs = o.pollMs ?? 500;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.renewTimer = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.leaseMs / 3)));
    this.loopDone = this.loop();
  }

  /** Stops claiming and deciding; running tasks are detached (a later executor adopts them), leases released. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.renewTimer);
    this.kick();
    await this.loopDone;
    for (const h of this.held.values()) {
      for (const t of h.tasks.values()) t.detach.abort();
      await h.chain;
      await this.o.store.releaseLease(h.lease).catch(() => undefined);
    }
    this.held.clear();
    for (const tasks of this.parked.values()) for (const t of tasks.values()) t.detach.abort();
    this.parked.clear();
  }

  /** Wakes the loop now (a new execution or event was posted in this process). */
  kick(): void {
    this.wake?.();
  }

  get executions(): string[] {
    return [...this.held.keys()];
  }

  private log(msg: string): void {
    this.o.log?.(`[workflow ${this.o.owner}] ${msg}`);
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.tick();
      } catch (e) {
        this.log(`loop: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (this.stopped) break;
      const next = await this.o.store.nextTimer(this.o.owner).catch(() => undefined);
      const delay = Math.max(0, Math.min(this.pollMs, next ? next.dueAt - this.clock.now() : this.pollMs));
      if (delay > 0) await new Promise<void>((resolve) => { const t = setTimeout(resolve, delay); this.wake = () => { clearTimeout(t); resolve(); }; });
      this.wake = undefined;
    }
  }

  private async tick(): Promise<void> {
    const room = (this.o.maxExecutions ?? 1_000) - this.held.size;
    if (room > 0) {
      const claimed = await this.o.store.claimExecutions(this.o.owner, this.leaseMs, room, { reclaimOwn: this.firstClaim });
      this.firstClaim = false;
      for (const lease of claimed) await this.adopt(lease);
    }
    const due = await this.o.store.dueTimers(this.o.owner, this.clock.now(), 100);
    for (const t of due) this.enqueue(t.executionId, (h) => this.step(h, { type: 'TimerFired', token: t.token }, { timer: t.token }));
    for (const h of this.held.values()) this.enqueue(h.lease.executionId, (x) => this.drain(x));
    await Promise.all([...this.held.values()].map((h) => h.chain));
  }

  private async adopt(lease: ExecutionLease): Promise<void> {
    const rec = await this.o.store.getExecution(lease.executionId);
    if (!rec) return;
    const tasks = this.parked.get(lease.executionId) ?? new Map();
    this.parked.delete(lease.executionId);
    const h: Held = { lease, state: rec.state, chain: Promise.resolve(), tasks, dirty: true, paused: rec.status === 'PAUSED', ...(rec.starter !== undefined ? { starter: rec.starter } : {}) };
    this.held.set(lease.executionId, h);
    const open = await this.o.store.openTasks(lease.executionId);
    await this.sweep(lease.executionId, new Set(open.map((t) => t.token)));
    if (h.paused) return;
    const resumed = open.filter((t) => t.status === 'scheduled');
    if (rec.state) this.log(`resumed ${lease.executionId} (fence ${lease.fence}, ${resumed.length} task(s) to adopt)`);
    for (const t of resumed) this.launch(h, t.command);
  }

  /** Removes what runners left for tasks of the execution no longer open (an agent died between a report and its clean-up). */
  private async sweep(executionId: string, open: ReadonlySet<string>): Promise<void> {
    for (const runner of new Set(Object.values(this.o.runners))) {
      const removed = await runner.sweep?.(executionId, open).catch((e: unknown) => { this.log(`sweep of ${executionId}: ${e instanceof Error ? e.message : String(e)}`); return 0; });
      if (removed) this.log(`${executionId}: swept ${removed} container(s) of finished tasks`);
    }
  }

  private enqueue(id: string, fn: (h: Held) => Promise<void>): void {
    const h = this.held.get(id);
    if (!h) return;
    h.chain = h.chain.then(() => (this.held.get(id) === h ? fn(h) : undefined)).catch((e: unknown) => this.lost(h, e));
  }

  private async drain(h: Held): Promise<void> {
    if (this.stopped || this.held.get(h.lease.executionId) !== h) return;
    let ev = await this.nextFor(h);
    for (;;) {
      if (this.stopped || this.held.get(h.lease.executionId) !== h) return;
      if (!ev) {
        if (h.paused) await this.park(h);
        return;
      }
      h.peeked = undefined;
      if (isControlEvent(ev.event)) await this.control(h, ev.event, ev.id);
      else await this.step(h, ev.event, { inbox: ev.id });
      // The commit saw the next inbox event: decided without reading the inbox again (not while paused: then only control events count).
      const peeked = h.peeked as Committed | undefined;
      ev = peeked && !h.paused ? peeked.next : await this.nextFor(h);
    }
  }

  private nextFor(h: Held): Promise<InboxEvent | undefined> {
    return h.paused ? this.o.store.nextControlEvent(h.lease.executionId) : this.o.store.nextEvent(h.lease.executionId);
  }

  /** Cancel, pause, resume, redrive: recorded by operations.ts, carried out here in inbox order. */
  private async control(h: Held, event: ControlEvent, inbox: number): Promise<void> {
    const consumed = { inbox };
    const now = this.clock.now();
    if (!h.state) throw new Error(`${event.type} before the execution's Started event was decided`);
    const unchanged = { state: h.state, status: h.paused ? 'PAUSED' as const : statusOf(h.state), history: [], commands: [], consumed };
    if (event.type === 'Cancel') return this.commit(h, { ...abortTransition(h.state, event.cause ?? 'cancelled', now), consumed });
    if (event.type === 'Pause') return this.commit(h, h.paused ? unchanged : { ...pauseTransition(h.state, now), consumed });
    if (event.type === 'Resume') {
      if (!h.paused) return this.commit(h, unchanged);
      await this.commit(h, { ...resumeTransition(h.state, now), consumed });
      h.paused = false;
      for (const t of await this.o.store.openTasks(h.lease.executionId)) if (t.status === 'scheduled') this.launch(h, t.command);
      return;
    }
    if (h.state.status === 'RUNNING') return this.commit(h, unchanged);
    try {
      const d = await redrive(h.state, now);
      return await this.commit(h, { state: d.execution, status: statusOf(d.execution), history: d.history, commands: d.commands, consumed });
    } catch (e) {
      if (!(e instanceof RedriveRefused)) throw e;
      this.log(`${h.lease.executionId}: redrive refused: ${e.message}`);
      return this.commit(h, unchanged);
    }
  }

  /** A paused execution with no control event left: let the lease go (a Cancel or Resume makes it claimable again). */
  private async park(h: Held): Promise<void> {
    this.held.delete(h.lease.executionId);
    if (h.tasks.size) this.parked.set(h.lease.executionId, h.tasks);
    await this.o.store.releaseLease(h.lease);
    this.log(`${h.lease.executionId} paused (${h.tasks.size} running task(s) left to finish)`);
  }

  /** One decision; a null event (cancel before start) only consumes. */
  private async step(h: Held, event: WorkflowEvent | null, consumed: Consumed): Promise<void> {
    if (this.stopped || this.held.get(h.lease.executionId) !== h || h.paused) return;
    if (event === null || (event.type !== 'Started' && !h.state) || (event.type === 'Started' && h.state)) {
      // Nothing to decide (a duplicate start, or an event before the start): consume it unchanged.
      if (h.state) await this.commit(h, { state: h.state, status: statusOf(h.state), history: [], commands: [], consumed });
      return;
    }
    const now = this.clock.now();
    let d;
    try {
      d = await decide(h.state ?? undefined, event, now);
    } catch (e) {
      // decide is pure (no store, no lease): whatever it throws, deciding again would throw again.
      const cause = e instanceof Error ? e.message : String(e);
      this.log(`${h.lease.executionId}: deciding ${event.type} threw (${cause}); the execution fails with States.Runtime`);
      return this.commit(h, { ...runtimeFailure(h.state, event, cause, now), consumed });
    }
    await this.commit(h, { state: d.execution, status: statusOf(d.execution), history: d.history, commands: d.commands, consumed });
  }

  private async commit(h: Held, t: Parameters<WorkflowStore['commit']>[1]): Promise<void> {
    h.peeked = await this.o.store.commit(h.lease, t);
    h.state = t.state;
    if (t.history.length) this.o.onCommit?.(h.lease.executionId, t.history);
    if (t.status === 'PAUSED') { h.paused = true; return; }
    this.carryOut(h, t.commands);
    if (isEnded(t.status)) {
      this.held.delete(h.lease.executionId);
      for (const task of h.tasks.values()) task.cancel.abort();
      this.log(`${h.lease.executionId} ended ${t.status}`);
      await this.sweep(h.lease.executionId, new Set());
      const rec = await this.o.store.getExecution(h.lease.executionId);
      if (rec) await this.o.onEnd?.(rec);
    }
  }

  private carryOut(h: Held, commands: Command[]): void {
    for (const c of commands) {
      if (c.type === 'ScheduleTask') this.launch(h, c);
      else if (c.type === 'CancelTask') { h.tasks.get(c.token)?.cancel.abort(); h.tasks.delete(c.token); }
    }
  }

  private launch(h: Held, command: Command & { type: 'ScheduleTask' }): void {
    if (h.tasks.has(command.token)) return;
    const ctl = { cancel: new AbortController(), detach: new AbortController() };
    h.tasks.set(command.token, ctl);
    const id = h.lease.executionId;
    const runner = this.o.runners[resourceBase(command.resource)];
    const run = async (): Promise<TaskOutcome> => {
      if (!runner) return { ok: false, error: 'States.Runtime', cause: `no runner for resource ${command.resource}` };
      let release: (() => void) | undefined;
      try {
        release = await this.o.taskLimiter?.acquire(id, AbortSignal.any([ctl.cancel.signal, ctl.detach.signal]));
        return await runner.run({ executionId: id, command, signal: ctl.cancel.signal, detached: ctl.detach.signal, ...(h.starter !== undefined ? { publisher: h.starter } : {}) });
      } catch (e) {
        return { ok: false, error: 'States.TaskFailed', cause: e instanceof Error ? e.message : String(e) };
      } finally {
        release?.();
      }
    };
    void run().then(async (out) => {
      h.tasks.delete(command.token);
      if (h.tasks.size === 0 && this.parked.get(id) === h.tasks) this.parked.delete(id);
      if (ctl.cancel.signal.aborted || ctl.detach.signal.aborted) return;
      if ('dispatched' in out) { await this.o.store.markDispatched(id, command.token); return; }
      const ev: WorkflowEvent = out.ok ? { type: 'TaskSucceeded', token: command.token, output: out.output } : { type: 'TaskFailed', token: command.token, error: out.error, cause: out.cause };
      await this.o.store.postEvent(id, ev, reportKey(command.token));
      this.enqueue(id, (x) => this.drain(x));
      await out.afterReport?.().catch((e: unknown) => this.log(`task ${command.token} of ${id}: after-report step failed: ${e instanceof Error ? e.message : String(e)}`));
    }).catch((e: unknown) => this.log(`task ${command.token} of ${id}: report failed: ${e instanceof Error ? e.message : String(e)}`));
  }

  private async renew(): Promise<void> {
    const leases = [...this.held.values()].map((h) => h.lease);
    const lost = await this.o.store.renewLeases(leases, this.leaseMs).catch(() => []);
    for (const l of lost) {
      const h = this.held.get(l.executionId);
      if (h && h.lease.fence === l.fence) this.lost(h, new LeaseLostError(l));
    }
  }

  private lost(h: Held, e: unknown): void {
    if (this.held.get(h.lease.executionId) !== h) return;
    this.held.delete(h.lease.executionId);
    for (const t of h.tasks.values()) t.detach.abort();
    this.log(`${h.lease.executionId}: ${e instanceof LeaseLostError ? 'lease lost' : `dropped after an error: ${e instanceof Error ? e.message : String(e)}`}`);
  }
}
