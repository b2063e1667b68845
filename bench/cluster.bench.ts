/**
 * Cluster bench (pure, simulated): 1,000 nodes, 10,000 replicas.
 * - scheduler placements/s: one reconcile placing everything from empty;
 * - reconcile time per tick at steady state, and after a node dies.
 * Run: node --import tsx bench/cluster.bench.ts
 */
import { reconcile } from '../src/planner/cluster/reconcile.js';
import { applyPlan, applyUpdates } from '../src/planner/cluster/observe.js';
import type { NodeView, Replica, ServiceSpec } from '../src/domain/cluster.js';

const NODES = 1_000;
const SERVICES = 100;
const PER_SERVICE = 100;
const NOW = 1_000_000;

const nodes: NodeView[] = Array.from({ length: NODES }, (_, i) => ({
  name: `node-${String(i).padStart(4, '0')}`, labels: { zone: `z${i % 3}` }, status: 'ready', lastHeartbeat: NOW,
  free: { cpu: 64_000, memMb: 256_000, diskMb: 1_000_000 },
}));
const services: ServiceSpec[] = Array.from({ length: SERVICES }, (_, i) => ({
  name: `svc-${i}`, replicas: PER_SERVICE, version: 1, deleted: false, constraints: i % 10 === 0 ? [{ label: 'zone', op: '!=', value: 'z0' }] : [],
  container: { name: `svc-${i}`, image: 'img:1', resources: { cpu: 100, memMb: 128, diskMb: 10 } },
}));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

function time<T>(f: () => T): [T, number] {
  const t0 = process.hrtime.bigint();
  const v = f();
  return [v, Number(process.hrtime.bigint() - t0) / 1e6];
}

// warm-up
reconcile({ services: services.slice(0, 5), replicas: [], nodes, now: NOW });

const placeTimes: number[] = [];
let replicas: Replica[] = [];
for (let run = 0; run < 5; run++) {
  const [plan, ms] = time(() => reconcile({ services, replicas: [], nodes, now: NOW }));
  placeTimes.push(ms);
  if (run === 0) {
    if (plan.place.length !== SERVICES * PER_SERVICE) throw new Error(`placed ${plan.place.length}`);
    replicas = applyPlan([], plan, NOW);
  }
}
replicas = applyUpdates(replicas, replicas.map((r) => ({ service: r.service, slot: r.slot, generation: r.generation, state: 'running' as const })), NOW);
const placeMs = median(placeTimes);

const steady: number[] = [];
for (let i = 0; i < 10; i++) steady.push(time(() => reconcile({ services, replicas, nodes, now: NOW }))[1]);

const later = NOW + 5_000;
const oneDead = nodes.map((n, i) => ({ ...n, lastHeartbeat: i === 7 ? NOW : later }));
const failover: number[] = [];
let moved = 0;
for (let i = 0; i < 5; i++) {
  const [plan, ms] = time(() => reconcile({ services, replicas, nodes: oneDead, now: later }));
  failover.push(ms);
  moved = plan.place.length;
}

const total = SERVICES * PER_SERVICE;
console.log(`cluster bench: ${NODES} nodes, ${total} replicas (${SERVICES} services × ${PER_SERVICE}), node ${process.version}`);
console.log(`  schedule from empty: ${placeMs.toFixed(1)} ms median of 5 → ${Math.round(total / (placeMs / 1000)).toLocaleString('en')} placements/s (target ≥ 5,000)`);
console.log(`  reconcile, steady state: ${median(steady).toFixed(1)} ms per tick median of 10 (target < 200 ms)`);
console.log(`  reconcile, one node dead (${moved} replicas re-placed): ${median(failover).toFixed(1)} ms median of 5`);
