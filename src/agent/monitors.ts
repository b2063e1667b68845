/**
 * monitor_container_status (seed 000): many monitors at once, none blocking.
 * Docker events wake the checks; a periodic resync honours each monitor's `interval` and
 * catches anything an event missed. Monitors are kept in a state file, so they survive an
 * agent restart; the event stream resumes from the last event seen.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { EngineEventKind } from '../domain/engine/index.js';
import type { ContainerEngine } from '../ports/engine.js';
import type { ContainerDetails } from '../domain/engine/index.js';
import type { Clock } from '../ports/clock.js';
import { backoffMs, sleep } from '../util/abort.js';
import type { Logger } from '../util/log.js';

export interface Monitor {
  id: string;
  name: string;
  response_channel: string;
  interval_s: number;
  next_check_at: number;
}

export interface MonitorNotice {
  container: string;
  timestamp: string;
  running: false;
  current_status: string;
  exit_code: number | null;
  monitor_id: string;
}

const WATCHED_KINDS: ReadonlySet<EngineEventKind> = new Set<EngineEventKind>(['died', 'stopped', 'killed', 'destroyed', 'oom', 'paused', 'renamed']);

export class MonitorManager {
  private readonly monitors = new Map<string, Monitor>();
  private lastEventNano: bigint | undefined;
  private readonly ctl = new AbortController();
  private loops: Promise<void>[] = [];
  private saving: Promise<void> = Promise.resolve();
  private readonly queued = new Set<string>();
  private draining: Promise<void> | undefined;

  constructor(
    private readonly deps: {
      engine: ContainerEngine;
      clock: Clock;
      log: Logger;
      stateFile: string;
      notify: (channel: string, notice: MonitorNotice) => Promise<void>;
      tickMs?: number;
    },
  ) {}

  get size(): number {
    return this.monitors.size;
  }

  async start(): Promise<void> {
    try {
      const saved = JSON.parse(await readFile(this.deps.stateFile, 'utf8')) as { monitors: Monitor[]; last_event_nano?: string };
      for (const m of saved.monitors) this.monitors.set(m.id, m);
      if (saved.last_event_nano) this.lastEventNano = BigInt(saved.last_event_nano);
      this.deps.log.info({ monitors: this.monitors.size }, 'monitors restored');
    } catch {
      /* no state yet */
    }
    this.loops = [this.watchEvents(), this.tickLoop()];
    await this.checkAll(this.monitors.values());
  }

  async stop(): Promise<void> {
    this.ctl.abort();
    await Promise.allSettled(this.loops);
    await this.persist();
  }

  /** Registers a monitor (idempotent per id) and checks it at once. */
  async add(m: Omit<Monitor, 'next_check_at'>): Promise<void> {
    this.monitors.set(m.id, { ...m, next_check_at: this.deps.clock.now() + m.interval_s * 1000 });
    await this.persist();
    await this.checkAll([this.monitors.get(m.id) as Monitor]);
  }

  private persist(): Promise<void> {
    const snapshot = JSON.stringify({ monitors: [...this.monitors.values()], last_event_nano: this.lastEventNano?.toString() });
    this.saving = this.saving.then(async () => {
      // Private dir, fresh random temp name opened O_EXCL (never follows a planted file or symlink), synced before the rename.
      await mkdir(dirname(this.deps.stateFile), { recursive: true, mode: 0o700 });
      const tmp = join(dirname(this.deps.stateFile), `.${basename(this.deps.stateFile)}.${randomBytes(8).toString('hex')}.tmp`);
      const fh = await open(tmp, 'wx', 0o600);
      try {
        await fh.writeFile(snapshot);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.deps.stateFile);
    });
    return this.saving;
  }

  private async watchEvents(): Promise<void> {
    for (let attempt = 0; !this.ctl.signal.aborted; ) {
      try {
        const events = this.deps.engine.events.stream({
          resources: ['container'],
          signal: this.ctl.signal,
          ...(this.lastEventNano !== undefined ? { sinceNano: this.lastEventNano } : {}),
        });
        for await (const ev of events) {
          attempt = 0;
          this.lastEventNano = ev.timeNano;
          if (!WATCHED_KINDS.has(ev.kind)) continue;
          this.deps.log.debug({ kind: ev.kind, name: ev.name }, 'container event');
          const name = ev.name ?? '';
          const hit = [...this.monitors.values()].filter((m) => m.name === name || (m.name.length >= 12 && ev.id.startsWith(m.name)));
          if (hit.length) await this.checkAll(hit);
        }
      } catch (e) {
        if (this.ctl.signal.aborted) return;
        this.deps.log.warn({ err: (e as Error).message, attempt }, 'monitor event stream lost; resuming');
        await sleep(backoffMs(attempt++, 200, 5000), this.ctl.signal);
        await this.checkAll(this.monitors.values()).catch(() => undefined);
      }
    }
  }

  private async tickLoop(): Promise<void> {
    while (!this.ctl.signal.aborted) {
      await sleep(this.deps.tickMs ?? 1000, this.ctl.signal);
      const now = this.deps.clock.now();
      const due = [...this.monitors.values()].filter((m) => m.next_check_at <= now);
      if (due.length) await this.checkAll(due).catch((e) => this.deps.log.warn({ err: (e as Error).message }, 'monitor resync failed'));
    }
  }

  /**
   * Queues monitors for a check; one engine list call covers each round. A check asked for
   * while a round runs is queued for the next round, so no event is lost to a stale answer.
   */
  private checkAll(batch: Iterable<Monitor>): Promise<void> {
    for (const m of batch) this.queued.add(m.id);
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
    return this.draining;
  }

  private async drain(): Promise<void> {
    while (this.queued.size > 0) {
      const ids = [...this.queued];
      this.queued.clear();
      await this.checkRound(ids.map((id) => this.monitors.get(id)).filter((m): m is Monitor => m !== undefined));
    }
  }

  /**
   * Docker emits `die` before its list view is updated, so small rounds (the event-driven ones)
   * inspect each container, which waits for the container's own lock; large periodic rounds
   * use one list call and inspect only what is not running.
   */
  private async checkRound(list: Monitor[]): Promise<void> {
    if (list.length === 0) return;
    const listed = list.length > 50 ? await this.deps.engine.containers.list({ all: true }) : undefined;
    const byName = new Map((listed ?? []).map((c) => [c.name, c.status]));
    const now = this.deps.clock.now();
    const inspected = new Map<string, Promise<ContainerDetails | undefined>>();
    const inspectOnce = (name: string) => {
      let p = inspected.get(name);
      if (!p) inspected.set(name, (p = this.deps.engine.containers.inspect(name)));
      return p;
    };
    let changed = false;
    for (const m of list) {
      if (listed && byName.get(m.name) === 'running') {
        m.next_check_at = now + m.interval_s * 1000;
        continue;
      }
      const details = await inspectOnce(m.name);
      this.deps.log.debug({ monitor: m.name, status: details?.state.status }, 'monitor check');
      if (details?.state.running) {
        m.next_check_at = now + m.interval_s * 1000;
        continue;
      }
      const notice: MonitorNotice = {
        container: m.name,
        timestamp: new Date(now).toISOString(),
        running: false,
        current_status: details?.state.status ?? 'removed',
        exit_code: details ? details.state.exitCode : null,
        monitor_id: m.id,
      };
      await this.deps.notify(m.response_channel, notice);
      this.monitors.delete(m.id);
      changed = true;
      this.deps.log.info({ container: m.name, status: notice.current_status }, 'monitored container is no longer running');
    }
    if (changed) await this.persist();
  }
}
