/**
 * Wraps a real engine so a test can break its event stream (as a daemon restart does:
 * engine_unavailable) and hold re-subscription — without restarting the shared daemon.
 */
import { BosunError } from '../../../src/domain/errors.js';
import type { ContainerEngine } from '../../../src/ports/engine.js';
import type { EngineEvent, EventsRequest } from '../../../src/domain/engine/index.js';

export interface BreakableEngine extends ContainerEngine {
  breakAndHold(): void;
  release(): void;
  subscriptions(): number;
}

export function breakableEngine(engine: ContainerEngine): BreakableEngine {
  let current: (() => void) | undefined;
  let hold: Promise<void> | undefined;
  let releaseHold: (() => void) | undefined;
  let subs = 0;
  async function* events(req: EventsRequest): AsyncIterable<EngineEvent> {
    if (hold) await hold;
    subs++;
    const inner = new AbortController();
    const onAbort = () => inner.abort();
    req.signal.addEventListener('abort', onAbort, { once: true });
    let broken = false;
    current = () => {
      broken = true;
      inner.abort();
    };
    try {
      for await (const ev of engine.events.stream({ ...req, signal: inner.signal })) yield ev;
    } finally {
      req.signal.removeEventListener('abort', onAbort);
    }
    if (broken) throw new BosunError('engine_unavailable', 'event stream broken by the test');
  }
  const extra = {
    events: { stream: events },
    breakAndHold() {
      hold = new Promise((r) => (releaseHold = r));
      current?.();
    },
    release() {
      hold = undefined;
      releaseHold?.();
    },
    subscriptions: () => subs,
  };
  return new Proxy(engine, {
    get(target, prop) {
      if (prop in extra) return extra[prop as keyof typeof extra];
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as BreakableEngine;
}
