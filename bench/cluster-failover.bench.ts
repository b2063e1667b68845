/**
 * Failover bench (real engines, broker, PostgreSQL): time from a node's death (agent
 * SIGKILLed, engine stopped) until every replica runs again on the other nodes, as seen
 * on the engines themselves. Median of 5 runs, printed beside the configured heartbeat.
 * Run: node --import tsx bench/cluster-failover.bench.ts
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LABEL } from '../src/domain/labels.js';
import { eventually, newRunId, TEST_IMAGE } from '../test/helpers/docker.js';
import { removeEngineDirs, startEngine } from '../test/helpers/engines.js';
import { Cluster, freshDatabase, killProc, sum } from '../test/integration/cluster/harness.js';

const RUNS = Number(process.env.RUNS ?? 5);
const REPLICAS = 6;
const runId = newRunId();
const dir = join(tmpdir(), `bosun-failover-${runId}`);
mkdirSync(dir, { recursive: true });
const db = await freshDatabase(runId);
const cluster = new Cluster(dir, runId, db.url);
const times: number[] = [];
try {
  cluster.startServer('s1', 15_900 + Math.floor(Math.random() * 90));
  for (const [i, short] of ['n1', 'n2', 'n3'].entries()) await cluster.addNode(short, i);
  await cluster.waitApi('s1');
  await eventually('3 nodes ready', async () => {
    const r = await cluster.api<{ nodes: { status: string }[] }>('s1', 'GET', '/nodes');
    return r.json.nodes.filter((n) => n.status === 'ready').length === 3;
  }, 30_000, 100);
  await cluster.api('s1', 'PUT', '/services/bench', {
    replicas: REPLICAS,
    // exits at once on SIGTERM, so a stopped engine goes down quickly
    container: { name: 'bench', image: TEST_IMAGE, cmd: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'], labels: { [LABEL.test]: runId } },
  });
  const settled = async (exclude?: string) => {
    const r = await cluster.running('bench');
    return sum(r) === REPLICAS && (!exclude || !(r.get(exclude) ?? 0)) ? r : undefined;
  };
  await eventually('initial placement', () => settled(), 60_000, 100);
  for (let run = 0; run < RUNS; run++) {
    const per = await cluster.running('bench');
    const victim = cluster.nodes.find((n) => (per.get(n.name) ?? 0) > 0)!;
    const t0 = performance.now();
    await killProc(victim.agent, 'SIGKILL');
    const stopping = victim.engine.stop();
    // count only the survivors while the victim's engine goes down
    await eventually('replicas restored', async () => {
      let total = 0;
      for (const n of cluster.nodes) {
        if (n === victim) continue;
        const list = await n.engine.engine.containers.list({ labels: { [LABEL.service]: 'bench', [LABEL.test]: runId } });
        total += list.filter((c) => c.status === 'running').length;
      }
      return total === REPLICAS;
    }, 60_000, 50);
    const ms = performance.now() - t0;
    times.push(ms);
    console.log(`  run ${run + 1}: ${(ms / 1000).toFixed(2)} s (victim ${victim.name} had ${per.get(victim.name)} replicas)`);
    await stopping;
    // same index → same bridge as before (each engine owns its bridge)
    victim.engine = await startEngine(dir, victim.name.split('-').pop()!, cluster.nodes.indexOf(victim));
    cluster.startAgent(victim);
    await eventually('victim back and clean', async () => {
      const left = await victim.engine.engine.containers.list({ all: true, labels: { [LABEL.service]: 'bench', [LABEL.test]: runId } });
      return left.length === 0 && (await settled());
    }, 60_000, 100);
    await new Promise((r) => setTimeout(r, 1_000)); // its heartbeats count again before the next kill
  }
} finally {
  await cluster.stopAll();
  await db.drop();
  removeEngineDirs(dir);
}
const sorted = [...times].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)] ?? NaN;
console.log(`cluster failover: ${REPLICAS} replicas over 3 nodes, heartbeat every 300 ms, grace 1500 ms, controller tick 200 ms`);
console.log(`  node kill → all replicas running elsewhere: median ${(median / 1000).toFixed(2)} s of ${times.length} runs (min ${(sorted[0]! / 1000).toFixed(2)}, max ${(sorted.at(-1)! / 1000).toFixed(2)}); target ≤ 3 s`);
