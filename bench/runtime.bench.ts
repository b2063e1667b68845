/**
 * OCI runtime bench (issue 11): crun against runc on one engine of its own that has both
 * registered (scripts/ensure-crun-engine.sh; the shared engine's configuration is not touched),
 * measured alternately in the same run:
 *  1. cold: direct Engine API create/start/wait/logs/remove, runtime crun ÷ runc;
 *  2. cold through the agent (`"runtime": "crun"` on the run) ÷ the same run without it (runc);
 *  3. a direct exec in a started container, crun ÷ runc;
 *  4. a warm run through the agent from a pool on crun (`match.runtime`) ÷ one from a pool on
 *     runc, and each ÷ `docker run --rm` (runc) on the same engine;
 *  5. host CPU per container step on each runtime, and the warm burst's CPU bound it gives.
 * Skips cleanly (exit 0, saying why) when that engine cannot be started. The engine is stopped
 * by its PID at the end when this bench started it.
 * Run: node --import tsx bench/runtime.bench.ts   (root, Docker, RabbitMQ, the test image)
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createEngine } from '../src/adapters/engine-factory.js';
import { LABEL } from '../src/domain/labels.js';
import { TEST_IMAGE, newRunId, removeTestContainers } from '../test/helpers/docker.js';
import { AMQP_URL, TestClient, startTestAgent, tempDir } from '../test/helpers/agent.js';
import { lifecycleCpu, quietHost } from './lifecycle.js';
import { RpcClient } from './rpc.js';

const run = promisify(execFile);
const script = join(import.meta.dirname, '..', 'scripts', 'ensure-crun-engine.sh');
const N = Number(process.env.BENCH_LATENCY_N ?? 20);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)] as number;

async function engineUp(host: string): Promise<boolean> {
  return run('docker', ['-H', host, 'info']).then(() => true, () => false);
}

async function main(): Promise<void> {
  const host = `unix://${process.env.BOSUN_CRUN_ROOT ?? '/var/lib/bosun-crun-engine'}/docker.sock`;
  const wasUp = await engineUp(host);
  try {
    await run('bash', [script, 'start'], { timeout: 180_000 });
  } catch (e) {
    console.log(`runtime bench skipped: the crun engine could not be started (${(e as { stderr?: string }).stderr?.trim() || (e as Error).message})`);
    return;
  }
  const engine = createEngine({ host });
  const runId = newRunId();
  const labels = { [LABEL.test]: runId };
  const POOL = 2;
  const poolsFile = join(tempDir('rt-bench'), 'pools.yaml');
  const pool = (name: string, runtime?: string) => `  - name: ${name}\n    image: ${TEST_IMAGE}\n    size: ${POOL}\n    match:\n${runtime ? `      runtime: ${runtime}\n` : ''}      labels: { ${LABEL.test}: ${runId} }\n`;
  writeFileSync(poolsFile, `pools:\n${pool('rt-runc')}${pool('rt-crun', 'crun')}`);
  const agent = await startTestAgent({ dockerHost: host, poolsFile });
  let agentStopped = false;
  const started: Record<string, string> = {};
  for (const rt of ['runc', 'crun']) {
    const { id } = await engine.containers.create({ image: TEST_IMAGE, entrypoint: ['sleep', '3600'], labels, runtime: rt, stopTimeoutSec: 0 });
    await engine.containers.start(id);
    started[rt] = id;
  }
  const client = await TestClient.connect(AMQP_URL);
  const rpc = await RpcClient.open(client);
  const sink = await client.collect(`rt-${runId}-sink`);
  try {
    const direct = async (runtime: string | undefined): Promise<number> => {
      const t = performance.now();
      const { id } = await engine.containers.create({ image: TEST_IMAGE, cmd: ['echo', 'hi'], labels, ...(runtime ? { runtime } : {}) });
      await engine.containers.start(id);
      await engine.containers.wait(id);
      const out = await engine.containers.logs(id, { tty: false });
      if (out.stdout !== 'hi\n') throw new Error(`direct run output (${runtime ?? 'runc'}): ${JSON.stringify(out)}`);
      await engine.containers.remove(id, { force: true });
      return performance.now() - t;
    };
    const viaAgent = async (runtime: string | undefined): Promise<number> => {
      const t = performance.now();
      const r = await rpc.request('start_container.response_channel', { image: TEST_IMAGE, command: ['echo', 'hi'], labels, response_channel: `rt-${runId}-sink`, warm: false, ...(runtime ? { runtime } : {}) }, { timeoutMs: 120_000 });
      if (r.ok !== true || r.stdout !== 'hi\n') throw new Error(`agent run failed (${runtime ?? 'runc'}): ${JSON.stringify(r)}`);
      return performance.now() - t;
    };
    const exec = async (rt: string): Promise<number> => {
      const t = performance.now();
      const r = await engine.exec.run(started[rt]!, { cmd: ['echo', 'hi'] });
      if (r.output.stdout !== 'hi\n') throw new Error(`direct exec output (${rt}): ${JSON.stringify(r)}`);
      return performance.now() - t;
    };
    const idle = async (rt: string) => (await engine.containers.list({ labels: { ...labels, [LABEL.pool]: `rt-${rt}` } })).filter((c) => c.name.startsWith('bosun-pool-')).length;
    /** Both pools full and no used member still being removed: each warm run starts from the same engine. */
    const poolsFull = async () => {
      const used = async () => (await engine.containers.list({ all: true, labels: { ...labels, [LABEL.run]: 'attached' } })).filter((c) => !c.name.startsWith('bosun-pool-') && c.labels[LABEL.pool]).length;
      for (const until = Date.now() + 60_000; (await idle('runc')) < POOL || (await idle('crun')) < POOL || (await used()) > 0;) {
        if (Date.now() > until) throw new Error('the pools did not fill within 60 s (is crun refused?)');
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    let misses = 0;
    /** A warm run's time, or undefined when it went cold (counted, kept out of the medians). */
    const warm = async (rt: string): Promise<number | undefined> => {
      const t = performance.now();
      const r = await rpc.request('start_container.response_channel', { image: TEST_IMAGE, command: ['echo', 'hi'], labels, response_channel: `rt-${runId}-sink`, warm: true, ...(rt === 'crun' ? { runtime: 'crun' } : {}) }, { timeoutMs: 120_000 });
      const ms = performance.now() - t;
      if (r.ok !== true || r.stdout !== 'hi\n') throw new Error(`warm run failed (${rt}): ${JSON.stringify(r)}`);
      return r.warm === true ? ms : undefined;
    };
    const dockerRunRm = async (): Promise<number> => {
      const t = performance.now();
      const { stdout } = await run('docker', ['-H', host, 'run', '--rm', '--label', `${LABEL.test}=${runId}`, TEST_IMAGE, 'echo', 'hi']);
      if (stdout !== 'hi\n') throw new Error('docker run output');
      return performance.now() - t;
    };
    await poolsFull();
    for (let i = 0; i < 3; i++) {
      for (const rt of [undefined, 'crun']) await direct(rt), await viaAgent(rt), await exec(rt ?? 'runc');
      await dockerRunRm();
      for (const rt of ['runc', 'crun']) await poolsFull(), await warm(rt);
    }
    const ms: Record<string, number[]> = { runc: [], crun: [], agentRunc: [], agentCrun: [], execRunc: [], execCrun: [], warmRunc: [], warmCrun: [], rm: [] };
    for (let i = 0; i < N; i++) {
      // Alternated, so a change of the machine's load falls on both alike; each from a quiet host,
      // after the last warm run's removal and refill (the pools full).
      const q = async (xs: number[], f: () => Promise<number | undefined>) => {
        await quietHost();
        const t = await f();
        if (t === undefined) misses++;
        else xs.push(t);
      };
      await poolsFull();
      await q(ms.runc!, () => direct(undefined));
      await q(ms.crun!, () => direct('crun'));
      await q(ms.agentRunc!, () => viaAgent(undefined));
      await q(ms.agentCrun!, () => viaAgent('crun'));
      await q(ms.execRunc!, () => exec('runc'));
      await q(ms.execCrun!, () => exec('crun'));
      await q(ms.rm!, dockerRunRm);
      await poolsFull();
      await q(ms.warmRunc!, () => warm('runc'));
      await poolsFull();
      await q(ms.warmCrun!, () => warm('crun'));
    }
    const f = (xs: number[]) => `${median(xs).toFixed(1)} ms (p90 ${p90(xs).toFixed(1)})`;
    const r = (a: number[], b: number[]) => (median(a) / median(b)).toFixed(2);
    console.log(`cold run, n=${N}, own engine (runc and crun registered): direct API runc ${f(ms.runc!)}, crun ${f(ms.crun!)}; agent runc ${f(ms.agentRunc!)}, crun ${f(ms.agentCrun!)}`);
    console.log(`crun / runc, direct API: ${r(ms.crun!, ms.runc!)}`);
    console.log(`crun / runc, through the agent: ${r(ms.agentCrun!, ms.agentRunc!)}`);
    console.log(`direct exec: runc ${f(ms.execRunc!)}, crun ${f(ms.execCrun!)}; crun / runc ${r(ms.execCrun!, ms.execRunc!)}`);
    console.log(`warm run (pool of ${POOL} per runtime; ${misses} of the ${2 * N} timed went cold and are left out): runc ${f(ms.warmRunc!)}, crun ${f(ms.warmCrun!)}; crun / runc ${r(ms.warmCrun!, ms.warmRunc!)}; docker run --rm (runc) ${f(ms.rm!)}`);
    console.log(`warm / docker run --rm: runc pool ${r(ms.warmRunc!, ms.rm!)}, crun pool ${r(ms.warmCrun!, ms.rm!)}; warm / direct exec of its runtime: runc ${r(ms.warmRunc!, ms.execRunc!)}, crun ${r(ms.warmCrun!, ms.execCrun!)}`);
    // The pools' idle members and refills out of the way: the CPU figures are the steps' own.
    await agent.stop();
    agentStopped = true;
    for (const rt of ['runc', 'crun']) {
      await quietHost(0.1, 500, 20_000);
      const lc = await lifecycleCpu(engine, { image: TEST_IMAGE, entrypoint: ['sleep', '3600'], labels, runtime: rt, stopTimeoutSec: 0 }, { image: TEST_IMAGE, cmd: ['echo', 'hi'], labels, runtime: rt }, 16, 2);
      const withRefill = lc.exec + lc.create + lc.start + lc.kill + lc.remove;
      console.log(`host CPU per container, ${rt} (n=16, 2 at a time): create ${lc.create.toFixed(0)}, start ${lc.start.toFixed(0)}, exec ${lc.exec.toFixed(0)}, kill ${lc.kill.toFixed(0)}, remove ${lc.remove.toFixed(0)} ms; a cold run ${lc.cold.toFixed(0)}; a warm run with its replacement ${withRefill.toFixed(0)} (${(withRefill / lc.cold).toFixed(2)}× a cold run)`);
    }
  } finally {
    await rpc.close();
    await sink.stop();
    await client.close();
    if (!agentStopped) await agent.stop();
    await removeTestContainers(engine, runId);
    if (!wasUp) await run('bash', [script, 'stop']);
  }
}

await main();
