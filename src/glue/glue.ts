/**
 * The glue core: events in → matching handler workers. Events only trigger a full
 * re-read (SnapshotCache), never an incremental patch, so the next event or the periodic
 * `resync` repairs anything a missed one broke.
 *
 * Seed 004's semantics: `all` matches every container event except `none`; `none` is
 * fired at start-up; after an event, if a handler it reached has triggers-none, `none` is
 * fired too. `resync` reaches every state handler (and handlers that list it).
 */
import type { ContainerEngine } from '../ports/engine.js';
import type { EngineEvent, EngineEventKind } from '../domain/engine/index.js';
import type { Logger } from '../util/log.js';
import { matchesEvent } from './config.js';
import { SnapshotCache } from './snapshot.js';
import type { GlueEvent, GlueHandler, HandlerConfig } from './types.js';
import { HandlerWorker, type WorkerOptions } from './worker.js';
import { withTimeout } from '../util/abort.js';

const CLOSE_TIMEOUT_MS = 5_000;

export interface GlueOptions {
  engine: ContainerEngine;
  handlers: { cfg: HandlerConfig; handler: GlueHandler }[];
  log: Logger;
  /** Only containers with these labels are seen (tests, multi-tenant hosts). */
  labels?: Record<string, string | true>;
  worker?: Partial<WorkerOptions>;
}

/** Glue's event names are seed 004's (its handler files list them): bosun's event kinds in those words. */
const GLUE_EVENT_NAME: Record<EngineEventKind, string> = {
  created: 'create',
  started: 'start',
  died: 'die',
  stopped: 'stop',
  killed: 'kill',
  destroyed: 'destroy',
  paused: 'pause',
  unpaused: 'unpause',
  restarted: 'restart',
  renamed: 'rename',
  oom: 'oom',
  health: 'health_status',
  connected: 'connect',
  disconnected: 'disconnect',
  other: 'other',
};

export function eventName(ev: Pick<EngineEvent, 'kind' | 'engineAction'>): string {
  return ev.kind === 'other' ? (ev.engineAction ?? 'other') : GLUE_EVENT_NAME[ev.kind];
}

export function toGlueEvent(ev: EngineEvent): GlueEvent {
  return { event: eventName(ev), containerId: ev.id, timeNano: ev.timeNano, attributes: ev.attributes };
}

export class Glue {
  readonly snapshots: SnapshotCache;
  readonly workers: HandlerWorker[];
  private readonly ctl = new AbortController();
  private readonly log: Logger;

  constructor(opts: GlueOptions) {
    this.log = opts.log;
    this.snapshots = new SnapshotCache(opts.engine, opts.labels);
    const wopts: WorkerOptions = { retries: 3, retryBaseMs: 200, timeoutMs: 60_000, maxQueue: 10_000, ...opts.worker };
    this.workers = opts.handlers
      .filter((h) => h.cfg.enabled)
      .map(({ cfg, handler }) => {
        const timeoutMs = cfg.params.timeout_ms ? Number(cfg.params.timeout_ms) : wopts.timeoutMs;
        const retries = cfg.params.retries ? Number(cfg.params.retries) : wopts.retries;
        return new HandlerWorker(cfg, handler, () => this.snapshots.get(), opts.log, { ...wopts, timeoutMs, retries }, this.ctl.signal);
      });
  }

  private wants(w: HandlerWorker, event: string): boolean {
    if (event === 'resync') return w.handler.kind === 'state' || w.cfg.events.includes('resync');
    return matchesEvent(w.cfg, event);
  }

  dispatch(ev: GlueEvent): void {
    this.snapshots.invalidate(ev);
    let triggersNone = false;
    for (const w of this.workers) {
      if (!this.wants(w, ev.event)) continue;
      w.enqueue(ev);
      triggersNone ||= w.cfg.triggersNone;
    }
    this.log.debug({ event: ev.event, container: ev.containerId.slice(0, 12) }, 'event dispatched');
    if (triggersNone && ev.event !== 'none' && ev.event !== 'resync') this.dispatch({ event: 'none', containerId: '' });
  }

  /** Resolves once every worker is idle. */
  async idle(): Promise<void> {
    for (;;) {
      await Promise.all(this.workers.map((w) => w.idle()));
      // A worker may have been fed while another was awaited.
      if (this.workers.every((w) => !w.busy)) return;
    }
  }

  async close(): Promise<void> {
    this.ctl.abort();
    await Promise.all(this.workers.map((w) => w.idle().catch(() => undefined)));
    for (const w of this.workers) {
      try {
        // one hanging handler (a broker, a plugin) must not hold the others' shutdown
        if (w.handler.close) await withTimeout(`close of handler ${w.cfg.name}`, CLOSE_TIMEOUT_MS, () => w.handler.close!());
      } catch (e) {
        this.log.warn({ err: e, handler: w.cfg.name }, 'handler close failed');
      }
    }
  }
}
