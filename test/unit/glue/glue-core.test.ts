import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BosunError } from '../../../src/domain/errors.js';
import { Glue } from '../../../src/glue/glue.js';
import { watchEvents } from '../../../src/glue/watch.js';
import type { ContainerEngine } from '../../../src/ports/engine.js';
import type { EngineEvent, EngineEventKind, EventsRequest } from '../../../src/domain/engine/index.js';
import type { GlueHandler, HandlerConfig, HandlerContext } from '../../../src/glue/types.js';
import { silentLogger } from '../../../src/util/log.js';

function cfg(name: string, events: string[], triggersNone = false): HandlerConfig {
  return { name, file: `${name}.ini`, type: 'plugin', events, enabled: true, triggersNone, params: {}, dir: '/tmp' };
}

/** A fake engine: lists nothing; its event stream is scripted per subscription. */
function fakeEngine(streams: Array<(req: EventsRequest) => AsyncIterable<EngineEvent>>) {
  const calls: { sinceNano?: bigint }[] = [];
  let lists = 0;
  const engine = {
    async info() {
      return { id: 'x', name: 'x', serverVersion: '1', apiVersion: '1', cpus: 1, memoryBytes: 1 };
    },
    containers: {
      async list() {
        lists++;
        return [];
      },
    },
    events: { stream(req: EventsRequest) {
      calls.push({ ...(req.sinceNano !== undefined ? { sinceNano: req.sinceNano } : {}) });
      const next = streams.shift();
      if (next) return next(req);
      return (async function* () {
        await new Promise<void>((r) => req.signal.addEventListener('abort', () => r(), { once: true }));
      })();
    } },
  } as unknown as ContainerEngine;
  return { engine, calls, lists: () => lists };
}

function ev(kind: EngineEventKind, id: string, t: bigint): EngineEvent {
  return { resource: 'container', kind, id, timeNano: t, attributes: {} };
}

function recorder(kind: 'state' | 'event', fail = false): GlueHandler & { seen: string[] } {
  const seen: string[] = [];
  return {
    kind,
    seen,
    async handle(ctx: HandlerContext) {
      await ctx.snapshot();
      seen.push(`${ctx.event.event}:${ctx.event.containerId}`);
      if (fail) throw new Error('boom');
    },
  };
}

test('a throwing handler is retried and isolated; the others see every event', async () => {
  const { engine } = fakeEngine([]);
  const bad = recorder('event', true);
  const good = recorder('event');
  const glue = new Glue({ engine, log: silentLogger, handlers: [{ cfg: cfg('bad', ['all']), handler: bad }, { cfg: cfg('good', ['all']), handler: good }], worker: { retries: 2, retryBaseMs: 1 } });
  glue.dispatch({ event: 'start', containerId: 'a' });
  glue.dispatch({ event: 'die', containerId: 'a' });
  await glue.idle();
  assert.deepEqual(good.seen, ['start:a', 'die:a']);
  assert.equal(bad.seen.length, 6, 'each event tried 1 + 2 retries');
  await glue.close();
});

test('state handlers coalesce a burst into few runs; event handlers see all', async () => {
  const { engine, lists } = fakeEngine([]);
  const state = recorder('state');
  const events = recorder('event');
  const glue = new Glue({ engine, log: silentLogger, handlers: [{ cfg: cfg('s', ['start']), handler: state }, { cfg: cfg('e', ['start']), handler: events }] });
  for (let i = 0; i < 100; i++) glue.dispatch({ event: 'start', containerId: String(i) });
  await glue.idle();
  assert.equal(events.seen.length, 100);
  assert.ok(state.seen.length <= 3, `state ran ${state.seen.length} times`);
  assert.equal(state.seen.at(-1), 'start:99', 'the latest event wins');
  assert.ok(lists() <= 102);
  await glue.close();
});

test('none: only handlers that list it; triggers-none fires it after an event; all excludes none', async () => {
  const { engine } = fakeEngine([]);
  const all = recorder('event');
  const none = recorder('event');
  const trig = recorder('event');
  const glue = new Glue({
    engine,
    log: silentLogger,
    handlers: [
      { cfg: cfg('all', ['all']), handler: all },
      { cfg: cfg('none', ['none']), handler: none },
      { cfg: cfg('trig', ['start'], true), handler: trig },
    ],
  });
  glue.dispatch({ event: 'die', containerId: 'x' });
  glue.dispatch({ event: 'start', containerId: 'y' });
  await glue.idle();
  assert.deepEqual(all.seen, ['die:x', 'start:y']);
  assert.deepEqual(none.seen, ['none:']);
  assert.deepEqual(trig.seen, ['start:y']);
  await glue.close();
});

test('watch: a broken stream resumes from the last event seen and fires a resync', async () => {
  const t0 = 1_000_000_000_000_000_000n;
  const { engine, calls } = fakeEngine([
    async function* () {
      yield ev('started', 'a', t0 + 10n);
      yield ev('died', 'a', t0 + 20n);
      throw new BosunError('engine_unavailable', 'event stream ended (daemon restart?)');
    },
    async function* () {
      yield ev('started', 'b', t0 + 30n);
    },
  ]);
  const state = recorder('state');
  const events = recorder('event');
  const glue = new Glue({ engine, log: silentLogger, handlers: [{ cfg: cfg('s', ['none', 'start', 'die']), handler: state }, { cfg: cfg('e', ['all']), handler: events }] });
  const ctl = new AbortController();
  const done = watchEvents({ engine, glue, log: silentLogger, signal: ctl.signal, resyncMs: 0, nowNano: () => t0 });
  // wait for three subscriptions (the second stream ends, so a third one follows)
  for (let i = 0; i < 200 && calls.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
  ctl.abort();
  const stats = await done;
  await glue.idle();
  assert.equal(calls[0]!.sinceNano, t0, 'first subscription starts at the time of the initial list');
  assert.equal(calls[1]!.sinceNano, t0 + 20n, 'resumes after the last event seen');
  assert.equal(calls[2]!.sinceNano, t0 + 30n);
  assert.ok(stats.reconnects >= 2);
  assert.deepEqual(events.seen, ['start:a', 'die:a', 'start:b']);
  assert.ok(state.seen.includes('resync:'), 'a resync follows the reconnect');
  await glue.close();
});

test('a container is out of the snapshot from its die event on, back on start', async () => {
  const running = { id: 'a', name: 'a', image: 'i', imageId: 'i', status: 'running', labels: {}, created: 0, networks: {}, ports: [] };
  const engine = { containers: { list: async () => [running] } } as unknown as ContainerEngine;
  const seen: number[] = [];
  const handler: GlueHandler = { kind: 'state', handle: async (ctx) => void seen.push((await ctx.snapshot()).length) };
  const glue = new Glue({ engine, log: silentLogger, handlers: [{ cfg: cfg('s', ['all']), handler }] });
  glue.dispatch({ event: 'die', containerId: 'a' });
  await glue.idle();
  glue.dispatch({ event: 'start', containerId: 'a' });
  await glue.idle();
  assert.deepEqual(seen, [0, 1]);
  await glue.close();
});

test('a handler whose close never returns does not hold the others\' close', async () => {
  const closed: string[] = [];
  const hang: GlueHandler = { kind: 'event', handle: async () => undefined, close: () => new Promise<void>(() => undefined) };
  const ok: GlueHandler = { kind: 'event', handle: async () => undefined, close: async () => void closed.push('ok') };
  const glue = new Glue({ engine: fakeEngine([]).engine, handlers: [{ cfg: cfg('hang', ['all']), handler: hang }, { cfg: cfg('ok', ['all']), handler: ok }], log: silentLogger });
  await glue.close();
  assert.deepEqual(closed, ['ok']);
});

test('watch: a network connect/disconnect fires a resync; the label filter applies to container events only', async () => {
  const t0 = 2_000_000_000_000_000_000n;
  const labelled = (kind: EngineEventKind, id: string, t: bigint): EngineEvent => ({ resource: 'container', kind, id, timeNano: t, attributes: { team: 'a' } });
  const { engine } = fakeEngine([
    async function* () {
      yield labelled('started', 'mine', t0 + 1n);
      yield ev('started', 'other', t0 + 2n);
      yield { resource: 'network', kind: 'disconnected', id: 'net1', containerId: 'mine', name: 'front', timeNano: t0 + 3n, attributes: { container: 'mine', name: 'front' } };
      yield { resource: 'network', kind: 'created', id: 'net2', name: 'x', timeNano: t0 + 4n, attributes: { name: 'x' } };
    },
  ]);
  const state = recorder('state');
  const events = recorder('event');
  const glue = new Glue({ engine, log: silentLogger, labels: { team: 'a' }, handlers: [{ cfg: cfg('s', ['start']), handler: state }, { cfg: cfg('e', ['all']), handler: events }] });
  const ctl = new AbortController();
  const done = watchEvents({ engine, glue, log: silentLogger, signal: ctl.signal, resyncMs: 0, labels: { team: 'a' }, nowNano: () => t0 });
  for (let i = 0; i < 100 && !state.seen.includes('resync:mine'); i++) await new Promise((r) => setTimeout(r, 20));
  ctl.abort();
  await done;
  await glue.idle();
  assert.deepEqual(events.seen, ['start:mine'], 'the unlabelled container and the network events are not container events');
  assert.ok(state.seen.includes('resync:mine'), `state handlers re-read on a network change: ${state.seen.join(',')}`);
  await glue.close();
});
