/**
 * The watch loop (Traefik's habit): list once, then follow the event stream under
 * retry-with-backoff. After a break (daemon restart, socket error) it waits for the engine,
 * fires a `resync` (a full re-read) and resumes the stream from the last event seen
 * (`sinceNano`), so nothing in between is missed. A periodic `resync` covers the rest.
 * Network connect/disconnect events change a container's addresses without a container
 * event: they fire a `resync` at once. The label filter is applied here, to container events,
 * because Docker would apply it to network events too (whose labels are the network's).
 */
import type { ContainerEngine } from '../ports/engine.js';
import type { EngineEvent } from '../domain/engine/index.js';
import { backoffMs, sleep } from '../util/abort.js';
import type { Logger } from '../util/log.js';
import type { Glue } from './glue.js';
import { toGlueEvent } from './glue.js';

/** Re-reads after a network event, for the container list that lags behind it. */
const NETWORK_RESYNC_AGAIN_MS = [500, 2_000];

export interface WatchOptions {
  engine: ContainerEngine;
  glue: Glue;
  log: Logger;
  signal: AbortSignal;
  /** Periodic full resync; 0 disables. */
  resyncMs: number;
  labels?: Record<string, string | true>;
  /** Injected clock for the first resume point (unix ns). */
  nowNano?: () => bigint;
}

export interface WatchStats {
  reconnects: number;
  lastEventNano: bigint | undefined;
}

export async function watchEvents(opts: WatchOptions): Promise<WatchStats> {
  const { engine, glue, log, signal } = opts;
  const stats: WatchStats = { reconnects: 0, lastEventNano: undefined };
  // The resume point starts *before* the initial list: events racing it are replayed, not lost.
  let since = (opts.nowNano ?? (() => BigInt(Date.now()) * 1_000_000n))();
  glue.dispatch({ event: 'none', containerId: '' });
  const timer = opts.resyncMs > 0 ? setInterval(() => glue.dispatch({ event: 'resync', containerId: '' }), opts.resyncMs) : undefined;
  let failures = 0;
  try {
    while (!signal.aborted) {
      try {
        for await (const ev of engine.events.stream({ sinceNano: since, resources: ['container', 'network'], signal })) {
          failures = 0;
          if (ev.timeNano > since) since = ev.timeNano;
          stats.lastEventNano = since;
          if (ev.resource === 'network') {
            if (ev.kind === 'connected' || ev.kind === 'disconnected') {
              const resync = () => signal.aborted || glue.dispatch({ event: 'resync', containerId: ev.containerId ?? '' });
              resync();
              // Docker sends the event a moment before its container list shows the new address
              for (const ms of NETWORK_RESYNC_AGAIN_MS) setTimeout(resync, ms).unref();
            }
            continue;
          }
          if (hasLabels(ev, opts.labels)) glue.dispatch(toGlueEvent(ev));
        }
        if (!signal.aborted) throw new Error('event stream ended');
      } catch (e) {
        if (signal.aborted) break;
        failures++;
        stats.reconnects++;
        log.warn({ err: e, attempt: failures }, 'event stream broke; resuming from the last event seen');
        await sleep(backoffMs(failures - 1, 100, 5_000), signal);
        await waitForEngine(engine, signal, log);
        if (signal.aborted) break;
        glue.dispatch({ event: 'resync', containerId: '' });
      }
    }
  } finally {
    if (timer) clearInterval(timer);
  }
  return stats;
}

async function waitForEngine(engine: ContainerEngine, signal: AbortSignal, log: Logger): Promise<void> {
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      await engine.info({ signal });
      return;
    } catch (e) {
      if (attempt % 10 === 0) log.warn({ err: e }, 'waiting for the container engine');
      await sleep(backoffMs(attempt, 200, 5_000), signal);
    }
  }
}

/** Docker puts a container's labels in its events' attributes. */
function hasLabels(ev: EngineEvent, labels: Record<string, string | true> | undefined): boolean {
  if (!labels) return true;
  return Object.entries(labels).every(([k, v]) => (v === true ? k in ev.attributes : ev.attributes[k] === v));
}
