/**
 * Fuzz bench (issue 8–11, 14): 10,000 seeded messages over every channel through a real agent
 * process (the same generator and accounting as test/integration/security/fuzz.test.ts), with
 * the figures: throughput, replies, parked records, messages unaccounted for, RSS at start,
 * peak and end, and what was left queued. Reference, in the same run: the same agent answering
 * 1,000 cheap valid messages only (container_status of a missing container).
 * Run: node --import tsx bench/fuzz.bench.ts   (needs Docker, RabbitMQ, the test image)
 */
import { randomUUID } from 'node:crypto';
import { newRunId, removeTestContainers, testEngine } from '../test/helpers/docker.js';
import { TestClient, spawnAgent, tempDir, AMQP_URL } from '../test/helpers/agent.js';
import { fuzz } from '../test/integration/security/fuzz-harness.js';

const N = Number(process.env.BENCH_FUZZ_N ?? 10_000);
const SEED = Number(process.env.BENCH_FUZZ_SEED ?? 20261201);
const REF_N = Number(process.env.BENCH_FUZZ_REF_N ?? 1000);

async function reference(): Promise<number> {
  const agent = await spawnAgent(['--concurrency', '8', '--errors-queue', `bosun.errors.ref-${randomUUID()}`], { BOSUN_STATE_DIR: tempDir('fzref'), BOSUN_BROKER_URL: AMQP_URL });
  const client = await TestClient.connect();
  try {
    const t0 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (next < REF_N) {
        next++;
        await client.request('container_status', { name: `ref-missing-${next}` });
      }
    }));
    return REF_N / ((performance.now() - t0) / 1000);
  } finally {
    agent.kill('SIGTERM');
    await client.close();
  }
}

const runId = newRunId();
try {
  const refRate = await reference();
  const r = await fuzz({ n: N, seed: SEED, runId, timeoutMs: 600_000 });
  const fmt = (x: number) => x.toFixed(1);
  console.log(`fuzz: ${r.sent} messages (seed ${SEED}) in ${fmt(r.seconds)} s = ${fmt(r.sent / r.seconds)} msg/s; reference (cheap valid only): ${fmt(refRate)} msg/s`);
  console.log(`  by kind: ${JSON.stringify(r.byKind)}`);
  console.log(`  replies ${r.replies}, parked ${r.parked}, unaccounted ${r.unaccounted.length}${r.unaccounted.length ? ` e.g. ${r.unaccounted.slice(0, 3).join('; ')}` : ''}`);
  console.log(`  left queued: ${JSON.stringify(r.leftQueued)}; agent alive: ${r.alive}; uncaught logged: ${r.uncaught}`);
  console.log(`  agent RSS: start ${fmt(r.rssStartMb)} MB, peak ${fmt(r.rssPeakMb)} MB, end ${fmt(r.rssEndMb)} MB (growth ${fmt(r.rssPeakMb - r.rssStartMb)} MB)`);
  if (!r.alive || r.unaccounted.length || Object.keys(r.leftQueued).length) process.exitCode = 1;
} finally {
  await removeTestContainers(testEngine(), runId);
}
process.exit();
