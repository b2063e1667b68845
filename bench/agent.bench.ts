/**
 * Agent bench (issue 2), each figure against a reference measured in the same run:
 *  1. message → reply latency of a short run vs create/start/wait/logs straight through the Engine API;
 *  2. 200 runs sent at once: completions/s vs a direct-API driver at the same concurrency;
 *  3. the agent's resident memory with 1,000 active monitors.
 * Run: node --import tsx bench/agent.bench.ts   (needs Docker, RabbitMQ, the test image)
 */
import { burst, leftAfter } from './burst.js';
import { RpcClient } from './rpc.js';
import { readFileSync } from 'node:fs';
import { LABEL } from '../src/domain/labels.js';
import { TEST_IMAGE, newRunId, removeTestContainers, testEngine } from '../test/helpers/docker.js';
import { AMQP_URL, TestClient, spawnAgent, tempDir } from '../test/helpers/agent.js';

const engine = testEngine();
const runId = newRunId();
const labels = { [LABEL.test]: runId };
const CONCURRENCY = 8;
const LATENCY_N = Number(process.env.BENCH_LATENCY_N ?? 20);
const BURST_N = Number(process.env.BENCH_BURST_N ?? 200);
const MONITORS_N = Number(process.env.BENCH_MONITORS_N ?? 1000);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function directRun(): Promise<void> {
  const { id } = await engine.containers.create({ image: TEST_IMAGE, cmd: ['echo', 'hi'], labels });
  await engine.containers.start(id);
  await engine.containers.wait(id);
  const out = await engine.containers.logs(id);
  if (out.stdout !== 'hi\n') throw new Error('direct run output');
  await engine.containers.remove(id, { force: true });
}

async function viaAgent(client: RpcClient): Promise<void> {
  const r = await client.request('start_container.response_channel', { image: TEST_IMAGE, command: ['echo', 'hi'], response_channel: `bench-${runId}-sink`, labels });
  if (r.ok !== true || r.stdout !== 'hi\n') throw new Error(`agent run failed: ${JSON.stringify(r)}`);
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

async function main(): Promise<void> {
  const agent = await spawnAgent(['--concurrency', String(CONCURRENCY)], { BOSUN_STATE_DIR: tempDir('bench'), BOSUN_BROKER_URL: AMQP_URL });
  const client = await TestClient.connect();
  const rpc = await RpcClient.open(client);
  const sink = await client.collect(`bench-${runId}-sink`);
  try {
    // warm-up
    for (let i = 0; i < 3; i++) {
      await directRun();
      await viaAgent(rpc);
    }
    const direct: number[] = [];
    const agentMs: number[] = [];
    for (let i = 0; i < LATENCY_N; i++) {
      let t = performance.now();
      await directRun();
      direct.push(performance.now() - t);
      t = performance.now();
      await viaAgent(rpc);
      agentMs.push(performance.now() - t);
    }
    const ratio = median(agentMs) / median(direct);
    console.log(`latency: agent median ${median(agentMs).toFixed(0)} ms, direct Engine API median ${median(direct).toFixed(0)} ms, ratio ${ratio.toFixed(2)} (target <= 1.10), n=${LATENCY_N}`);

    const d = await burst(BURST_N, CONCURRENCY, directRun);
    const a = await burst(BURST_N, BURST_N, () => viaAgent(rpc)); // all sent at once; the agent's prefetch bounds the work
    // Containers are removed after their replies: what is still there once removals had 10 s is left over.
    const leftovers = await leftAfter(async () => (await engine.containers.list({ all: true, labels })).length);
    console.log(
      `burst of ${BURST_N}: agent ${(BURST_N / a.seconds).toFixed(1)} runs/s (${a.failures} failed), direct ${(BURST_N / d.seconds).toFixed(1)} runs/s at concurrency ${CONCURRENCY} ` +
        `(${d.failures} failed); ratio ${(d.seconds / a.seconds).toFixed(2)} (target >= 0.9); leftover containers ${leftovers}`,
    );

    const { id } = await engine.containers.create({ image: TEST_IMAGE, name: `bench-mon-${runId}`, cmd: ['sleep', '600'], labels: { ...labels, [LABEL.managed]: 'true' }, stopTimeoutSec: 0 });
    await engine.containers.start(id);
    const before = rssMiB(agent.pid as number);
    await burst(MONITORS_N, 50, async () => {
      const r = await client.request('monitor_container_status', { name: `bench-mon-${runId}`, response_channel: `bench-${runId}-mon`, interval: 600 });
      if (r.ok !== true) throw new Error('monitor refused');
    });
    await new Promise((r) => setTimeout(r, 2000));
    const afterMonitors = rssMiB(agent.pid as number);
    console.log(`memory: agent RSS ${before.toFixed(1)} MiB before, ${afterMonitors.toFixed(1)} MiB with ${MONITORS_N} active monitors (+${(afterMonitors - before).toFixed(1)} MiB)`);
    const notices = await client.collect(`bench-${runId}-mon`);
    const t = performance.now();
    await engine.containers.stop(id, { timeoutSec: 0 });
    while (notices.messages.length < MONITORS_N && performance.now() - t < 60_000) await new Promise((r) => setTimeout(r, 50));
    console.log(`monitors: ${notices.messages.length}/${MONITORS_N} notices ${((performance.now() - t) / 1000).toFixed(2)} s after the stop`);
    await notices.stop();
  } finally {
    await rpc.close();
    await sink.stop();
    await client.close();
    agent.kill('SIGTERM');
    await new Promise((r) => agent.once('exit', r));
    await removeTestContainers(engine, runId);
  }
}

await main();
