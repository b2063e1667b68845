import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { reconcile } from '../../../src/planner/cluster/reconcile.js';
import { applyPlan } from '../../../src/planner/cluster/observe.js';
import type { NodeView, Replica, ReplicaState, ServiceSpec } from '../../../src/domain/cluster.js';
import { NOW, converge, live, node, service } from '../../unit/cluster/fixtures.js';

const STATES: ReplicaState[] = ['pending', 'running', 'failed', 'lost', 'stopped'];

const world = fc
  .record({
    nodeCount: fc.integer({ min: 0, max: 6 }),
    deadMask: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
    drainMask: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
    services: fc.array(fc.record({ replicas: fc.integer({ min: 0, max: 8 }), version: fc.integer({ min: 1, max: 3 }), deleted: fc.boolean() }), { minLength: 1, maxLength: 3 }),
    rows: fc.array(
      fc.record({
        svc: fc.integer({ min: 0, max: 3 }),
        slot: fc.integer({ min: 0, max: 9 }),
        generation: fc.integer({ min: 1, max: 4 }),
        node: fc.integer({ min: 0, max: 6 }),
        run: fc.boolean(),
        state: fc.constantFrom(...STATES),
        specVersion: fc.integer({ min: 1, max: 3 }),
        attempt: fc.integer({ min: 0, max: 4 }),
        age: fc.integer({ min: 0, max: 60_000 }),
      }),
      { maxLength: 30 },
    ),
  })
  .map((w) => {
    const nodes: NodeView[] = [];
    for (let i = 0; i < w.nodeCount; i++) {
      nodes.push(node(`n${i}`, { lastHeartbeat: w.deadMask[i] ? NOW - 10_000 : NOW, status: w.drainMask[i] ? 'draining' : 'ready' }));
    }
    const services: ServiceSpec[] = w.services.map((s, i) => service(`s${i}`, s.replicas, { version: s.version, deleted: s.deleted }));
    const seen = new Set<string>();
    const replicas: Replica[] = [];
    for (const r of w.rows) {
      const k = `${r.svc}/${r.slot}/${r.generation}`;
      if (seen.has(k)) continue;
      seen.add(k);
      replicas.push({ service: `s${r.svc}`, slot: r.slot, generation: r.generation, node: `n${r.node}`, specVersion: r.specVersion, desired: r.run ? 'run' : 'stop', state: r.state, attempt: r.attempt, notBefore: 0, updatedAt: NOW - r.age });
    }
    return { nodes, services, replicas };
  });

function liveBySlot(rs: Replica[], svc: string): Map<number, number> {
  const m = new Map<number, number>();
  for (const r of live(rs, svc)) m.set(r.slot, (m.get(r.slot) ?? 0) + 1);
  return m;
}

test('property: after any plan, no service wants more than its replicas, one per slot', () => {
  fc.assert(
    fc.property(world, ({ nodes, services, replicas }) => {
      // Start from a state that already satisfies one-live-per-slot (the store guarantees it).
      const start = dedupeLive(replicas);
      const plan = reconcile({ services, replicas: start, nodes, now: NOW });
      const after = applyPlan(start, plan, NOW);
      for (const s of services) {
        const want = s.deleted ? 0 : s.replicas;
        const slots = liveBySlot(after, s.name);
        assert.ok([...slots.values()].every((n) => n === 1), 'one live assignment per slot');
        const running = live(after, s.name).length;
        const before = live(start, s.name).length;
        assert.ok(running <= Math.max(want, before), `never grows above replicas (${running} > ${want})`);
        if (before <= want) assert.ok(running <= want);
      }
      const dead = new Set(plan.deadNodes);
      const draining = new Set(nodes.filter((n) => n.status === 'draining').map((n) => n.name));
      for (const p of plan.place) assert.ok(!dead.has(p.node) && !draining.has(p.node), 'never placed on a dead or draining node');
      for (const p of plan.place) {
        const prev = start.filter((r) => r.service === p.service && r.slot === p.slot).map((r) => r.generation);
        assert.ok(p.generation > Math.max(0, ...prev), 'generation always grows');
      }
    }),
    { numRuns: 500 },
  );
});

test('property: converged services are spread evenly over equal nodes', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.integer({ min: 0, max: 25 }), { minLength: 1, maxLength: 4 }), (nodeCount, counts) => {
      const nodes = Array.from({ length: nodeCount }, (_, i) => node(`n${i}`));
      const services = counts.map((c, i) => service(`s${i}`, c));
      const { replicas } = converge(services, nodes);
      for (const s of services) {
        const per = new Map(nodes.map((n) => [n.name, 0]));
        for (const r of live(replicas, s.name)) per.set(r.node, (per.get(r.node) ?? 0) + 1);
        const vals = [...per.values()];
        assert.equal(vals.reduce((a, b) => a + b, 0), s.replicas);
        assert.ok(Math.max(...vals) - Math.min(...vals) <= 1, `spread ${vals.join(',')}`);
      }
    }),
    { numRuns: 200 },
  );
});

test('property: killing a node and converging restores every replica elsewhere, no duplicates', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 12 }), fc.nat(), (nodeCount, want, victimSeed) => {
      const nodes = Array.from({ length: nodeCount }, (_, i) => node(`n${i}`));
      const svc = service('web', want);
      const { replicas } = converge([svc], nodes);
      const victim = `n${victimSeed % nodeCount}`;
      const later = NOW + 5_000;
      const after = nodes.map((n) => (n.name === victim ? n : { ...n, lastHeartbeat: later }));
      const healed = converge([svc], after, replicas, later).replicas;
      const l = live(healed, 'web');
      assert.equal(l.length, want);
      assert.ok(l.every((r) => r.node !== victim && r.state === 'running'));
      assert.equal(new Set(l.map((r) => r.slot)).size, want);
    }),
    { numRuns: 200 },
  );
});

function dedupeLive(rs: Replica[]): Replica[] {
  const best = new Map<string, Replica>();
  for (const r of rs) {
    if (r.desired !== 'run') continue;
    const k = `${r.service}/${r.slot}`;
    const b = best.get(k);
    if (!b || r.generation > b.generation) best.set(k, r);
  }
  return rs.map((r) => (r.desired === 'run' && best.get(`${r.service}/${r.slot}`) !== r ? { ...r, desired: 'stop' as const } : r));
}

test('property: a rolling update never has fewer than N-1 nor more than N replicas wanting to run', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 8 }), (nodeCount, want) => {
      const nodes = Array.from({ length: nodeCount }, (_, i) => node(`n${i}`));
      let { replicas } = converge([service('web', want)], nodes);
      const v2 = service('web', want, { version: 2, container: { name: 'web', image: 'img:2' } });
      for (let round = 0; round < want * 4 + 4; round++) {
        const plan = reconcile({ services: [v2], replicas, nodes, now: NOW });
        replicas = applyPlan(replicas, plan, NOW);
        const serving = live(replicas, 'web').filter((r) => r.state === 'running').length;
        const wanting = live(replicas, 'web').length;
        assert.ok(wanting <= want, `at most N (${wanting})`);
        assert.ok(serving >= want - 1, `keeps serving N-1 (${serving})`);
        // the nodes act: stops complete, starts succeed
        replicas = replicas.map((r) => (r.state === 'stopping' ? { ...r, state: 'stopped' as const } : r.desired === 'run' && r.state === 'pending' ? { ...r, state: 'running' as const } : r));
      }
      assert.ok(live(replicas, 'web').every((r) => r.specVersion === 2 && r.state === 'running'));
      assert.equal(live(replicas, 'web').length, want);
    }),
    { numRuns: 100 },
  );
});
