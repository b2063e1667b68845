/**
 * Warm pool bench (issue 11), each figure against a reference measured in the same run:
 *  1. warm run (message → reply) ÷ cold `docker run --rm` of the same command;
 *  2. warm run ÷ direct exec in a started container (bosun's own overhead), for a caller that
 *     takes its reply on reply_to (seed 003's dispatch run: the RPC path) and for one that also
 *     has a durable response_channel (start_container.response_channel: its confirm waits for
 *     RabbitMQ's disk write, and reply_to is only sent after it);
 *  3. cold run through the agent ÷ direct Engine API create/start/wait/logs/remove;
 *  4. burst of 200 cold runs ÷ a direct driver at the same concurrency (failures, leftovers);
 *  5. burst of 200 warm runs (pool of 8) ÷ burst of 200 cold runs.
 * Run: node --import tsx bench/warm.bench.ts   (needs Docker, RabbitMQ, the test image)
 */
import { burst, leftAfter } from './burst.js';
import { cpuBusySeconds, lifecycleCpu, quietHost } from './lifecycle.js';
import { idleMemory } from './pool-memory.js';
import { RpcClient } from './rpc.js';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LABEL } from '../src/domain/labels.js';
import { TEST_IMAGE, newRunId, removeTestContainers, testEngine } from '../test/helpers/docker.js';
import { AMQP_URL, TestClient, spawnAgent, tempDir } from '../test/helpers/agent.js';

const run = promisify(execFile);
const engine = testEngine();
const runId = newRunId();
const labels = { [LABEL.test]: runId };
const CONCURRENCY = 8;
const POOL = Number(process.env.BENCH_POOL ?? 8);
const N = Number(process.env.BENCH_LATENCY_N ?? 20);
const BURST_N = Number(process.env.BENCH_BURST_N ?? 200);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function dockerRunRm(): Promise<void> {
  const { stdout } = await run('docker', ['run', '--rm', '--label', `${LABEL.test}=${runId}`, TEST_IMAGE, 'echo', 'hi']);
  if (stdout !== 'hi\n') throw new Error('docker run output');
}

async function directApi(): Promise<void> {
  const { id } = await engine.containers.create({ image: TEST_IMAGE, cmd: ['echo', 'hi'], labels });
  await engine.containers.start(id);
  await engine.containers.wait(id);
  const out = await engine.containers.logs(id, { tty: false });
  if (out.stdout !== 'hi\n') throw new Error('direct run output');
  await engine.containers.remove(id, { force: true });
}

async function viaAgent(client: RpcClient, warm: boolean): Promise<boolean> {
  const r = await client.request('start_container.response_channel', { image: TEST_IMAGE, command: ['echo', 'hi'], response_channel: `wbench-${runId}-sink`, labels, warm }, { timeoutMs: 600_000 });
  if (r.ok !== true || r.stdout !== 'hi\n') throw new Error(`agent run failed: ${JSON.stringify(r)}`);
  if (warm && r.warm !== true && process.env.BENCH_DEBUG) console.log(JSON.stringify(r.result));
  return r.warm === true;
}

/** The RPC path: reply_to only (dispatch's attached run carries no labels: its pool matches by image alone). */
async function viaDispatch(client: RpcClient): Promise<boolean> {
  const r = await client.request('dispatch', { Dockercmd: 'run', Image: TEST_IMAGE, Cmd: ['echo', 'hi'], Options: { Attach: ['STDOUT', 'STDERR'], Remove: true } }, { timeoutMs: 600_000 });
  if (r.ok !== true || r.stdout !== 'hi\n') throw new Error(`dispatch run failed: ${JSON.stringify(r)}`);
  return r.warm === true;
}

async function timed(n: number, f: () => Promise<unknown>): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await f();
    ms.push(performance.now() - t);
  }
  return ms;
}

const OWNER = `wbench-${runId}`;
async function idle(pool = 'bench'): Promise<number> {
  return (await engine.containers.list({ labels: { [LABEL.poolOwner]: OWNER, [LABEL.pool]: pool } })).filter((c) => c.name.startsWith('bosun-pool-')).length;
}
/** The pool full and nothing of an earlier run still being removed: each timed run starts from the same quiet engine. */
async function poolFull(): Promise<void> {
  const busy = async () => (await engine.containers.list({ all: true, labels: { ...labels, [LABEL.run]: 'attached' } })).filter((c) => !c.name.startsWith('bosun-pool-')).length;
  const busyRpc = async () => (await engine.containers.list({ all: true, labels: { [LABEL.poolOwner]: OWNER } })).filter((c) => !c.name.startsWith('bosun-pool-')).length;
  while ((await idle()) < POOL || (await idle('rpc')) < 2 || (await busy()) > 0 || (await busyRpc()) > 0) await new Promise((r) => setTimeout(r, 50));
}

async function main(): Promise<void> {
  const dir = tempDir('warm-bench');
  const pools = join(dir, 'pools.yaml');
  // BENCH_REFILL_CONCURRENCY=1: the bench pool makes one member at a time (refill_concurrency).
  const refill = process.env.BENCH_REFILL_CONCURRENCY ? `    refill_concurrency: ${Number(process.env.BENCH_REFILL_CONCURRENCY)}\n` : '';
  writeFileSync(pools, `pools:\n  - name: bench\n    image: ${TEST_IMAGE}\n    size: ${POOL}\n${refill}    match:\n      labels: { ${LABEL.test}: ${runId} }\n  - name: rpc\n    image: ${TEST_IMAGE}\n    size: 2\n`);
  const agent = await spawnAgent(['--concurrency', String(CONCURRENCY), '--pools', pools, '--name', OWNER], { BOSUN_STATE_DIR: tempDir('wbench'), BOSUN_BROKER_URL: AMQP_URL });
  const client = await TestClient.connect();
  const rpc = await RpcClient.open(client);
  const sink = await client.collect(`wbench-${runId}-sink`);
  const { id: started } = await engine.containers.create({ image: TEST_IMAGE, entrypoint: ['sleep', '3600'], labels, stopTimeoutSec: 0 });
  await engine.containers.start(started);
  try {
    await poolFull();
    // What idle members hold on the host (README: the pools' memory bound).
    const members = (await engine.containers.list({ labels: { [LABEL.poolOwner]: OWNER } })).filter((c) => c.name.startsWith('bosun-pool-'));
    const mem = await idleMemory(undefined, members.map((c) => c.id));
    const mib = (kib: number) => (kib / 1024).toFixed(1);
    console.log(`idle pool memory: ${mem.members} members hold ${mib(mem.pssKiB)} MiB PSS (shims ${mib(mem.shimPssKiB)}, PID 1s ${mib(mem.pssKiB - mem.shimPssKiB)}), ${mib(mem.pssKiB / mem.members)} MiB each; their memory cgroups ${mib(mem.cgroupKiB / mem.members)} MiB each; at the 64-member cap at most about ${mib(((mem.pssKiB + (mem.cgroupKiB || 0)) / mem.members) * 64)} MiB (PID 1 counted in both, shims' shared pages as shared now)`);
    for (let i = 0; i < 3; i++) {
      await dockerRunRm();
      await directApi();
      await viaAgent(rpc, false);
      await poolFull();
      await viaDispatch(rpc);
      await engine.exec.run(started, { cmd: ['echo', 'hi'] });
    }
    const rm: number[] = [];
    const api: number[] = [];
    const exec: number[] = [];
    const cold: number[] = [];
    const warm: number[] = [];
    const warmRpc: number[] = [];
    let warmHits = 0;
    let rpcHits = 0;
    // Each timed run starts from a quiet host: not inside the tail of the one before (the refill a
    // warm run triggers, a removal), which slowed whichever figure came next by 15 ms or more.
    for (let i = 0; i < N; i++) {
      await quietHost();
      rm.push(...(await timed(1, dockerRunRm)));
      await quietHost();
      api.push(...(await timed(1, directApi)));
      await quietHost();
      exec.push(...(await timed(1, () => engine.exec.run(started, { cmd: ['echo', 'hi'] }))));
      await poolFull();
      await quietHost();
      cold.push(...(await timed(1, () => viaAgent(rpc, false))));
      await poolFull();
      await quietHost();
      const t = performance.now();
      if (await viaAgent(rpc, true)) warmHits++;
      warm.push(performance.now() - t);
      await poolFull();
      await quietHost();
      const t2 = performance.now();
      if (await viaDispatch(rpc)) rpcHits++;
      warmRpc.push(performance.now() - t2);
    }
    const f = (x: number) => x.toFixed(0);
    console.log(`medians (n=${N}): docker run --rm ${f(median(rm))} ms, direct API ${f(median(api))} ms, direct exec ${f(median(exec))} ms, agent cold ${f(median(cold))} ms, agent warm ${f(median(warm))} ms (${warmHits}/${N} warm), agent warm on reply_to only ${f(median(warmRpc))} ms (${rpcHits}/${N} warm)`);
    console.log(`warm / docker run --rm: ${(median(warm) / median(rm)).toFixed(2)} (target <= 0.20)`);
    console.log(`warm / direct exec: ${(median(warm) / median(exec)).toFixed(2)} (target <= 1.15; durable response_channel, then reply_to)`);
    console.log(`warm on reply_to only (dispatch) / direct exec: ${(median(warmRpc) / median(exec)).toFixed(2)}`);
    console.log(`cold / direct API: ${(median(cold) / median(api)).toFixed(2)} (target <= 1.05)`);

    const d = await burst(BURST_N, CONCURRENCY, directApi);
    const cpuCold0 = cpuBusySeconds();
    const c = await burst(BURST_N, BURST_N, () => viaAgent(rpc, false));
    // Containers are removed after their replies: what is still there once removals had 10 s is left over.
    const leftCold = await leftAfter(async () => (await engine.containers.list({ all: true, labels: { ...labels, [LABEL.run]: 'attached' } })).filter((x) => !x.name.startsWith('bosun-pool-')).length);
    const cpuCold = (cpuBusySeconds() - cpuCold0) / BURST_N;
    console.log(`burst ${BURST_N} cold: agent ${(BURST_N / c.seconds).toFixed(1)} runs/s (${c.failures} failed), direct ${(BURST_N / d.seconds).toFixed(1)} runs/s (${d.failures} failed); ratio ${(d.seconds / c.seconds).toFixed(2)} (target >= 1.00); leftovers ${leftCold}`);
    await poolFull();
    let hits = 0;
    const cpuWarm0 = cpuBusySeconds();
    const w = await burst(BURST_N, BURST_N, async () => void ((await viaAgent(rpc, true)) && hits++));
    // The warm runs' share of the engine's work includes refilling the pool they drained.
    await poolFull();
    const cpuWarm = (cpuBusySeconds() - cpuWarm0) / BURST_N;
    console.log(`burst ${BURST_N} warm (pool ${POOL}): ${(BURST_N / w.seconds).toFixed(1)} runs/s (${w.failures} failed, ${hits} warm); ÷ cold burst ${(c.seconds / w.seconds).toFixed(2)}x (target >= 3)`);
    // Why the burst ratio stays near 1: each warm run still costs a container's whole life (create, start, exec, kill, remove).
    console.log(`host CPU per run (all processes, until removals and refills were done): cold ${(cpuCold * 1000).toFixed(0)} ms, warm ${(cpuWarm * 1000).toFixed(0)} ms (${(cpuWarm / cpuCold).toFixed(2)}); ${os.cpus().length} cores bound a burst at about ${(os.cpus().length / cpuCold).toFixed(1)} cold or ${(os.cpus().length / cpuWarm).toFixed(1)} warm runs/s`);
    // What bounds the ratio when the host's CPU is the limit: each warm run past the pool's size needs a container made during the burst.
    const lc = await lifecycleCpu(engine, { image: TEST_IMAGE, entrypoint: ['sleep', '3600'], labels, stopTimeoutSec: 0 }, { image: TEST_IMAGE, cmd: ['echo', 'hi'], labels }, 24, CONCURRENCY);
    const withRefill = lc.exec + lc.create + lc.start + lc.kill + lc.remove;
    const bound = (BURST_N * lc.cold) / (POOL * lc.exec + (BURST_N - POOL) * Math.min(lc.cold, withRefill));
    console.log(`host CPU per container (n=24, ${CONCURRENCY} at a time): create ${lc.create.toFixed(0)}, start ${lc.start.toFixed(0)}, exec ${lc.exec.toFixed(0)}, kill ${lc.kill.toFixed(0)}, remove ${lc.remove.toFixed(0)} ms; a whole cold run ${lc.cold.toFixed(0)} ms`);
    console.log(`a warm run with its replacement costs ${withRefill.toFixed(0)} ms (${(withRefill / lc.cold).toFixed(2)}x a cold run); CPU-bound, a burst of ${BURST_N} with ${POOL} members made beforehand can run at most ${bound.toFixed(2)}x the cold burst (misses cold, no refill during it)`);
  } finally {
    await rpc.close();
    await sink.stop();
    await client.close();
    agent.kill('SIGTERM');
    await new Promise((r) => agent.once('exit', r));
    const own = await engine.containers.list({ all: true, labels: { [LABEL.poolOwner]: OWNER } });
    const left = new Set([...(await engine.containers.list({ all: true, labels })).filter((c) => c.id !== started), ...own].map((c) => c.id)).size;
    await Promise.all(own.map((c) => engine.containers.remove(c.id, { force: true }).catch(() => undefined)));
    console.log(`after shutdown: ${left} containers left (pool members removed on shutdown)`);
    await removeTestContainers(engine, runId);
  }
}

await main();
