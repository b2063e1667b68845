/**
 * Glue bench (real Docker + real haproxy, in-process glue in watch mode):
 * 1. `docker start` of a labelled container → first HTTP 200 through haproxy (median of N);
 *    `docker stop` → the route is gone (404), same N.
 * 2. Runtime API (no reload): a container joining an existing backend — start event → server
 *    enabled in haproxy, and start event → first reply from the new server via haproxy (median,
 *    p90 of N), against the reload path of 1. measured in the same run.
 * 3. A burst of B container starts into 4 existing backends → haproxy reloads (runtime API);
 *    then the burst of 1. into B new backends → reloads (coalesced), the reference.
 * Env: GLUE_BENCH_N (default 20), GLUE_BENCH_BURST (default 200), GLUE_BENCH_CONCURRENCY (default 8).
 * Run: node --import tsx bench/glue.bench.ts
 */
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_TEMPLATE } from '../src/glue/render.js';
import { runtimeCommand } from '../src/glue/haproxy-socket.js';
import { runGlue } from '../src/glue/run.js';
import type { Glue } from '../src/glue/glue.js';
import type { HaproxyHandler } from '../src/glue/handlers/haproxy.js';
import { LABEL } from '../src/domain/labels.js';
import { silentLogger } from '../src/util/log.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine } from '../test/helpers/docker.js';
import { createTestNetwork, freePort, get, removeTestNetwork, tempDir, testNetworkName } from '../test/integration/glue/fixtures.js';

const N = Number(process.env.GLUE_BENCH_N ?? 20);
const BURST = Number(process.env.GLUE_BENCH_BURST ?? 200);
const CONC = Number(process.env.GLUE_BENCH_CONCURRENCY ?? 8);
const engine = testEngine();
const runId = newRunId();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

async function create(tag: string, host = `${tag}.bench`): Promise<string> {
  const { id } = await engine.containers.create({
    name: `glue-bench-${runId}-${tag}`,
    image: TEST_IMAGE,
    cmd: ['sh', '-c', `mkdir -p /www && echo ${tag} > /www/id.txt && exec httpd -f -p 80 -h /www`],
    exposedPorts: ['80/tcp'],
    labels: { glue_http_80_host: host, [LABEL.test]: runId },
    stopSignal: 'SIGKILL',
    stopTimeoutSec: 1,
    networkMode: testNetworkName(runId),
  });
  return id;
}

async function until(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('bench: timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** First 200 from the container itself, probed the same way as through haproxy. */
function firstDirect(ip: string): Promise<number> {
  return new Promise((resolve) => {
    let done = false;
    const deadline = Date.now() + 60_000;
    const timer = setInterval(() => {
      if (done || Date.now() > deadline) return clearInterval(timer);
      fetch(`http://${ip}/id.txt`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => {
          if (!done && r.status === 200) {
            done = true;
            clearInterval(timer);
            resolve(performance.now());
          }
        },
        () => undefined,
      );
    }, 5);
  });
}

/**
 * Fires an independent request every `everyMs` (not one after the other: a request caught
 * on a just-removed backend waits for HAProxy's connect timeout and would hide the
 * moment the route changed) and resolves at the arrival of the first matching reply.
 */
function firstReply(port: number, host: string, match: (status: number, body: string) => boolean, everyMs = 5): Promise<number> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 60_000;
    let done = false;
    const timer = setInterval(() => {
      if (done) return;
      if (Date.now() > deadline) {
        done = true;
        clearInterval(timer);
        reject(new Error(`bench: no matching reply from ${host}`));
        return;
      }
      get(port, '/id.txt', host).then(
        (r) => {
          if (!done && match(r.status, r.body)) {
            done = true;
            clearInterval(timer);
            resolve(performance.now());
          }
        },
        () => undefined,
      );
    }, everyMs);
  });
}

async function pool<T>(items: T[], n: number, work: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) await work(items[i++]!);
  }));
}

async function main(): Promise<void> {
  const dir = await tempDir('bosun-glue-bench-');
  await createTestNetwork(engine, runId);
  const port = await freePort();
  await copyFile(DEFAULT_TEMPLATE, join(dir.path, 'haproxy.cfg.njk'));
  await writeFile(
    join(dir.path, 'lb.ini'),
    `[handler]\nclass=DockerGlue.handlers.lb.HAProxyHandler\nevents=start,die,stop,destroy,none\n\n[params]\ntemplate=haproxy.cfg.njk\nconfig_file=${dir.path}/haproxy.cfg\nhttp_bind=127.0.0.1:${port}\n`,
  );
  const ctl = new AbortController();
  let glue: Glue | undefined;
  const running = runGlue({
    configDir: dir.path, mode: 'watch', engine, log: silentLogger, signal: ctl.signal, resyncMs: 30_000,
    labels: { [LABEL.test]: runId },
    deps: { createTransport: () => Promise.reject(new Error('unused')), defaultBrokerUrl: '' },
    onReady: (g) => (glue = g),
  });
  const handler = () => glue!.workers[0]!.handler as HaproxyHandler;
  // Glue's own latency: event dispatched → haproxy config validated, swapped and reloaded.
  const eventAt = new Map<string, number>();
  const applied: number[] = [];
  const appliedRuntime: number[] = [];
  const instrument = () => {
    const g = glue!;
    const dispatch = g.dispatch.bind(g);
    g.dispatch = (ev) => {
      if (ev.event === 'start' || ev.event === 'die') eventAt.set(`${ev.event}:${ev.containerId}`, performance.now());
      dispatch(ev);
    };
    const proc = handler().process;
    const apply = proc.apply.bind(proc);
    proc.apply = async (text, signal) => {
      const r = await apply(text, signal);
      if (r.changed) (r.runtime ? appliedRuntime : applied).push(performance.now());
      return r;
    };
  };
  const glueLatency = (key: string, done_ = applied) => {
    const t = eventAt.get(key);
    const done = t === undefined ? undefined : done_.find((a) => a >= t);
    return t === undefined || done === undefined ? undefined : done - t;
  };
  try {
    await eventually('haproxy up', async () => (await get(port, '/', 'x.bench')).status === 404);
    instrument();
    const internalUp: number[] = [];
    const internalDown: number[] = [];
    const up: number[] = [];
    const down: number[] = [];
    const startApi: number[] = [];
    const direct: number[] = [];
    const stopApi: number[] = [];
    for (let i = 0; i < N; i++) {
      const tag = `lat${i}`;
      const id = await create(tag);
      const host = `${tag}.bench`;
      let t0 = performance.now();
      const routedAt = firstReply(port, host, (st, body) => st === 200 && body === tag);
      await engine.containers.start(id);
      startApi.push(performance.now() - t0);
      // Reference: the same container reached directly on its IP (no glue, no haproxy).
      const ip = (await engine.containers.inspect(id))?.networks[testNetworkName(runId)]?.ipAddress ?? '';
      const directAt = firstDirect(ip);
      up.push((await routedAt) - t0);
      direct.push((await directAt) - t0);
      t0 = performance.now();
      const goneAt = firstReply(port, host, (st) => st === 404);
      await engine.containers.stop(id, { timeoutSec: 1 });
      stopApi.push(performance.now() - t0);
      down.push((await goneAt) - t0);
      const iu = glueLatency(`start:${id}`);
      const id2 = glueLatency(`die:${id}`);
      if (iu !== undefined) internalUp.push(iu);
      if (id2 !== undefined) internalDown.push(id2);
      await engine.containers.remove(id, { force: true });
    }
    console.log(`start → first 200 via haproxy (n=${N}): median ${median(up).toFixed(0)} ms, p90 ${pct(up, 90).toFixed(0)} ms, min ${Math.min(...up).toFixed(0)} ms`);
    console.log(`stop → route gone (404)     (n=${N}): median ${median(down).toFixed(0)} ms, p90 ${pct(down, 90).toFixed(0)} ms, min ${Math.min(...down).toFixed(0)} ms`);
    console.log(`  reference in the same run: docker start API call alone median ${median(startApi).toFixed(0)} ms, docker stop API call alone median ${median(stopApi).toFixed(0)} ms`);
    console.log(`  reference: first 200 straight from the container IP (no glue, no haproxy) median ${median(direct).toFixed(0)} ms after start`);
    console.log(`  glue's share (median via haproxy − median direct): ~${(median(up) - median(direct)).toFixed(0)} ms`);
    console.log(`  glue internal: start event → haproxy validated+swapped+reloaded median ${median(internalUp).toFixed(0)} ms (n=${internalUp.length}); die event → reloaded median ${median(internalDown).toFixed(0)} ms (n=${internalDown.length})`);

    const reloadMedian = median(internalUp);

    // 2. Runtime API: containers joining (then leaving) a backend that already exists.
    await engine.containers.start(await create('rtbase', 'rt.bench'));
    await until(async () => (await get(port, '/id.txt', 'rt.bench')).body === 'rtbase');
    await glue!.idle();
    const reloadsRt = handler().process.reloads;
    const rtInternal: number[] = [];
    const rtServing: number[] = [];
    for (let i = 0; i < N; i++) {
      const tag = `rt${i}`;
      const id = await create(tag, 'rt.bench');
      const servedAt = firstReply(port, 'rt.bench', (st, body) => st === 200 && body === tag, 2);
      await engine.containers.start(id);
      const served = await servedAt;
      await glue!.idle();
      const ev = eventAt.get(`start:${id}`);
      const internal = glueLatency(`start:${id}`, appliedRuntime);
      if (ev !== undefined) rtServing.push(served - ev);
      if (internal !== undefined) rtInternal.push(internal);
      await engine.containers.remove(id, { force: true });
    }
    await glue!.idle();
    const rtReloads = handler().process.reloads - reloadsRt;
    console.log(`runtime API (container joins an existing backend, n=${N}): start event → server enabled in haproxy median ${median(rtInternal).toFixed(1)} ms, p90 ${pct(rtInternal, 90).toFixed(1)} ms (n=${rtInternal.length})`);
    console.log(`  start event → first reply from the new server via haproxy: median ${median(rtServing).toFixed(1)} ms, p90 ${pct(rtServing, 90).toFixed(1)} ms (includes the container's httpd start; probes every 2 ms)`);
    console.log(`  reference in the same run: start event → reloaded (new backend, 1.) median ${reloadMedian.toFixed(0)} ms; ratio runtime/reload ${(median(rtInternal) / reloadMedian).toFixed(3)}`);
    console.log(`  haproxy reloads during these ${N} joins and ${N} leaves: ${rtReloads}; runtime API updates: ${handler().process.runtimeUpdates}, fallbacks: ${handler().process.runtimeFallbacks}`);

    // 3a. A burst of starts into 4 existing backends (scale-out): runtime API.
    for (let b = 0; b < 4; b++) await engine.containers.start(await create(`pool${b}base`, `pool${b}.bench`));
    await until(async () => (await get(port, '/id.txt', 'pool3.bench')).status === 200);
    await glue!.idle();
    const poolIds: string[] = [];
    await pool(Array.from({ length: BURST }, (_, i) => i), CONC, async (i) => void poolIds.push(await create(`pool${i % 4}-${i}`, `pool${i % 4}.bench`)));
    await glue!.idle();
    const poolReloads0 = handler().process.reloads;
    const socket = `${dir.path}/haproxy.cfg.sock`;
    const upServers = async () => (await runtimeCommand(socket, 'show servers state', 5000)).split('\n').filter((l) => / be_\d+_pool\d\.bench_ /.test(l) && l.split(' ')[5] === '2' && l.split(' ')[6] === '0').length;
    const tp = performance.now();
    await pool(poolIds, CONC, (id) => engine.containers.start(id));
    const poolStarted = performance.now() - tp;
    await until(async () => (await upServers()) === BURST + 4);
    const poolAll = performance.now() - tp;
    await glue!.idle();
    console.log(`burst of ${BURST} starts into 4 existing backends (concurrency ${CONC}): all started in ${poolStarted.toFixed(0)} ms, all ${BURST + 4} servers up in haproxy in ${poolAll.toFixed(0)} ms`);
    console.log(`  haproxy reloads: ${handler().process.reloads - poolReloads0} for ${BURST} start events (runtime API)`);
    await pool(poolIds, CONC, (id) => engine.containers.remove(id, { force: true }));
    await glue!.idle();

    // 3b. Reference: the same burst, each container in a backend of its own (each must reload).
    const tags = Array.from({ length: BURST }, (_, i) => `burst${i}`);
    const ids: string[] = [];
    await pool(tags, CONC, async (t) => void ids.push(await create(t)));
    await glue!.idle();
    const reloads0 = handler().process.reloads;
    const lists0 = glue!.snapshots.lists;
    const t0 = performance.now();
    await pool(ids, CONC, (id) => engine.containers.start(id));
    const started = performance.now() - t0;
    let pending = [...tags];
    await until(async () => {
      const next: string[] = [];
      for (const t of pending) if ((await get(port, '/id.txt', `${t}.bench`)).body !== t) next.push(t);
      pending = next;
      return pending.length === 0;
    });
    const all = performance.now() - t0;
    await glue!.idle();
    console.log(`reference: burst of ${BURST} starts into ${BURST} new backends (concurrency ${CONC}): all started in ${started.toFixed(0)} ms, all routable in ${all.toFixed(0)} ms`);
    console.log(`  haproxy reloads: ${handler().process.reloads - reloads0} for ${BURST} start events; container lists: ${glue!.snapshots.lists - lists0}`);
  } finally {
    ctl.abort();
    await running.catch((e) => console.error(e));
    await removeTestContainers(engine, runId);
    await removeTestNetwork(engine, runId);
    await dir.remove();
  }
}

await main();
