import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reconcile } from '../../../src/planner/cluster/reconcile.js';
import { applyPlan } from '../../../src/planner/cluster/observe.js';
import { NOW, converge, live, node, replica, service } from './fixtures.js';

const nodes3 = [node('n1'), node('n2'), node('n3')];

test('creates a service: 3 replicas spread over 3 nodes', () => {
  const plan = reconcile({ services: [service('web', 3)], replicas: [], nodes: nodes3, now: NOW });
  assert.equal(plan.place.length, 3);
  assert.deepEqual(plan.place.map((p) => p.node).sort(), ['n1', 'n2', 'n3']);
  assert.deepEqual(plan.place.map((p) => p.slot).sort(), [0, 1, 2]);
  assert.ok(plan.place.every((p) => p.generation === 1 && p.why.feasible >= 1));
});

test('a dead node: its replica is marked lost and re-placed elsewhere with a new generation', () => {
  const nodes = [node('n1'), node('n2'), node('n3', { lastHeartbeat: NOW - 5_000 })];
  const rs = [replica('web', 0, 'n1'), replica('web', 1, 'n2'), replica('web', 2, 'n3', { generation: 4 })];
  const plan = reconcile({ services: [service('web', 3)], replicas: rs, nodes, now: NOW });
  assert.deepEqual(plan.deadNodes, ['n3']);
  assert.deepEqual(plan.stop.map((s) => [s.slot, s.markAs]), [[2, 'lost']]);
  assert.equal(plan.place.length, 1);
  assert.equal(plan.place[0]?.slot, 2);
  assert.equal(plan.place[0]?.generation, 5);
  assert.notEqual(plan.place[0]?.node, 'n3');
});

test('a heartbeat just inside the grace period is not a death (no false alarm)', () => {
  const nodes = [node('n1', { lastHeartbeat: NOW - 1_999 })];
  const plan = reconcile({ services: [service('web', 1)], replicas: [replica('web', 0, 'n1')], nodes, now: NOW });
  assert.equal(plan.stop.length + plan.place.length, 0);
});

test('scale down stops the highest slots; scale up adds slots', () => {
  const rs = [replica('web', 0, 'n1'), replica('web', 1, 'n2'), replica('web', 2, 'n3')];
  const down = reconcile({ services: [service('web', 1)], replicas: rs, nodes: nodes3, now: NOW });
  assert.deepEqual(down.stop.map((s) => s.slot).sort(), [1, 2]);
  assert.equal(down.place.length, 0);
  const up = reconcile({ services: [service('web', 5)], replicas: rs, nodes: nodes3, now: NOW });
  assert.deepEqual(up.place.map((p) => p.slot).sort(), [3, 4]);
});

test('a failed replica is replaced only after its backoff, and the reason is kept', () => {
  const failed = replica('web', 0, 'n1', { state: 'failed', reason: 'image_not_found', updatedAt: NOW });
  const first = reconcile({ services: [service('web', 1)], replicas: [failed], nodes: nodes3, now: NOW });
  assert.equal(first.stop[0]?.reason, 'image_not_found');
  assert.equal(first.place.length, 0);
  assert.equal(first.delayed.length, 1);
  const after = applyPlan([failed], first, NOW);
  const later = reconcile({ services: [service('web', 1)], replicas: after, nodes: nodes3, now: NOW + 1_000 });
  assert.equal(later.place.length, 1);
  assert.equal(later.place[0]?.attempt, 1);
  // the next failure waits twice as long
  const again = applyPlan(after, later, NOW + 1_000).map((r) => (r.desired === 'run' ? { ...r, state: 'failed' as const, updatedAt: NOW + 1_000 } : r));
  const fresh = nodes3.map((n) => ({ ...n, lastHeartbeat: NOW + 2_500 }));
  const third = reconcile({ services: [service('web', 1)], replicas: again, nodes: fresh, now: NOW + 2_500 });
  assert.equal(third.place.length, 0);
  assert.equal(third.delayed[0]?.notBefore, NOW + 3_000);
});

test('a replica that ran long enough before failing starts its backoff over', () => {
  const longRun = replica('web', 0, 'n1', { state: 'failed', attempt: 6, startedAt: NOW - 120_000, updatedAt: NOW });
  const crashLoop = replica('api', 0, 'n1', { state: 'failed', attempt: 6, startedAt: NOW - 500, updatedAt: NOW });
  const plan = reconcile({ services: [service('web', 1), service('api', 1)], replicas: [longRun, crashLoop], nodes: nodes3, now: NOW });
  const byService = new Map(plan.delayed.map((d) => [d.service, d.notBefore - NOW]));
  assert.equal(byService.get('web'), 1_000);
  assert.equal(byService.get('api'), 30_000);
});

test('not placed: the reason names what refused the nodes', () => {
  const svc = service('big', 1, { container: { name: 'big', image: 'i', resources: { cpu: 100, memMb: 99_999, diskMb: 0 } } });
  const plan = reconcile({ services: [svc], replicas: [], nodes: nodes3, now: NOW });
  assert.equal(plan.place.length, 0);
  assert.match(plan.unplaced[0]?.reason ?? '', /3 insufficient memory/);
});

test('constraints on node labels', () => {
  const nodes = [node('n1', { labels: { zone: 'a' } }), node('n2', { labels: { zone: 'b' } })];
  const svc = service('web', 2, { constraints: [{ label: 'zone', op: '=', value: 'b' }] });
  const plan = reconcile({ services: [svc], replicas: [], nodes, now: NOW });
  assert.deepEqual(plan.place.map((p) => p.node), ['n2', 'n2']);
  assert.equal(plan.place[0]?.why.refused['constraint zone=b'], 1);
});

test('drain: the old replica is stopped only when its successor can be placed, which waits for the stop', () => {
  const rs = [replica('web', 0, 'n1')];
  const alone = reconcile({ services: [service('web', 1)], replicas: rs, nodes: [node('n1', { status: 'draining' })], now: NOW });
  assert.equal(alone.stop.length, 0);
  const nodes = [node('n1', { status: 'draining' }), node('n2')];
  const moved = reconcile({ services: [service('web', 1)], replicas: rs, nodes, now: NOW });
  assert.deepEqual(moved.stop.map((s) => s.markAs), ['stopping']);
  assert.equal(moved.place.length, 0, 'stop first');
  const stopping = applyPlan(rs, moved, NOW);
  const waiting = reconcile({ services: [service('web', 1)], replicas: stopping, nodes, now: NOW + 100 });
  assert.equal(waiting.place.length, 0);
  assert.equal(waiting.delayed.length, 1);
  const confirmed = stopping.map((r) => ({ ...r, state: 'stopped' as const }));
  const placed = reconcile({ services: [service('web', 1)], replicas: confirmed, nodes, now: NOW + 200 });
  assert.equal(placed.place[0]?.node, 'n2');
  assert.equal(placed.place[0]?.generation, 2);
});

test('rolling update: one slot at a time, only while the others run', () => {
  const rs = [replica('web', 0, 'n1'), replica('web', 1, 'n2'), replica('web', 2, 'n3')];
  const svc = service('web', 3, { version: 2, container: { name: 'web', image: 'img:2' } });
  const step1 = reconcile({ services: [svc], replicas: rs, nodes: nodes3, now: NOW });
  assert.equal(step1.stop.length, 1);
  assert.equal(step1.place.length, 0, 'stop first: never N+1');
  const mid = applyPlan(rs, step1, NOW).map((r) => (r.state === 'stopping' ? { ...r, state: 'stopped' as const } : r));
  const step2 = reconcile({ services: [svc], replicas: mid, nodes: nodes3, now: NOW });
  assert.equal(step2.place.length, 1);
  assert.equal(step2.stop.length, 0, 'one slot at a time');
  assert.equal(step2.place[0]?.specVersion, 2);
  const mid2 = applyPlan(mid, step2, NOW);
  const step3 = reconcile({ services: [svc], replicas: mid2, nodes: nodes3, now: NOW });
  assert.equal(step3.place.length + step3.stop.length, 0, 'waits while the new replica is pending');
  const { replicas } = converge([svc], nodes3, mid2);
  assert.equal(live(replicas).length, 3);
  assert.ok(live(replicas).every((r) => r.specVersion === 2 && r.state === 'running'));
});

test('delete: everything stops, then the service is purged', () => {
  const rs = [replica('web', 0, 'n1'), replica('web', 1, 'n2')];
  const svc = service('web', 2, { deleted: true });
  const p1 = reconcile({ services: [svc], replicas: rs, nodes: nodes3, now: NOW });
  assert.equal(p1.stop.length, 2);
  const p2 = reconcile({ services: [svc], replicas: applyPlan(rs, p1, NOW), nodes: nodes3, now: NOW });
  assert.deepEqual(p2.purge, ['web']);
});

test('a pending replica that never reports is failed after the start timeout', () => {
  const rs = [replica('web', 0, 'n1', { state: 'pending', updatedAt: NOW - 31_000 })];
  const plan = reconcile({ services: [service('web', 1)], replicas: rs, nodes: nodes3, now: NOW });
  assert.equal(plan.stop[0]?.markAs, 'failed');
  assert.match(plan.stop[0]?.reason ?? '', /start timeout/);
});

test('host ports: two replicas binding the same host port never share a node, and the reason says so', () => {
  const svc = service('web', 3, { container: { name: 'web', image: 'img:1', ports: ['8080:80'] } });
  const two = [node('n1'), node('n2')];
  const plan = reconcile({ services: [svc], replicas: [], nodes: two, now: NOW });
  assert.deepEqual(plan.place.map((p) => p.node).sort(), ['n1', 'n2']);
  assert.equal(plan.unplaced.length, 1);
  assert.match(plan.unplaced[0]!.reason, /host port 8080\/tcp in use/);
  const other = service('api', 1, { container: { name: 'api', image: 'img:1', ports: ['127.0.0.1:8080:81'] } });
  const both = reconcile({ services: [other], replicas: [replica('web', 0, 'n1', { state: 'running' })], nodes: two, now: NOW });
  assert.deepEqual(both.place.map((p) => p.node), ['n2'], 'another service binding 8080 goes elsewhere');
  const udp = service('dns', 2, { container: { name: 'dns', image: 'img:1', ports: ['8080:53/udp'] } });
  assert.equal(reconcile({ services: [svc, udp], replicas: [], nodes: two, now: NOW }).place.filter((p) => p.service === 'dns').length, 2, 'udp and tcp do not clash');
});

test('rolling update with a host port on every node: the old replica\'s node counts as free, so the update proceeds', () => {
  const ports = { name: 'web', image: 'img:1', ports: ['8080:80'] };
  const rs = [replica('web', 0, 'n1'), replica('web', 1, 'n2'), replica('web', 2, 'n3')];
  const svc = service('web', 3, { version: 2, container: { ...ports, image: 'img:2' } });
  const { replicas } = converge([svc], nodes3, rs, NOW, 20);
  assert.equal(live(replicas).length, 3);
  assert.ok(live(replicas).every((r) => r.specVersion === 2 && r.state === 'running'), JSON.stringify(live(replicas)));
  assert.deepEqual(live(replicas).map((r) => r.node).sort(), ['n1', 'n2', 'n3']);
});

test('a rolling update that adds a host port another service holds does not stop the old replica', () => {
  const b = service('b', 1, { container: { name: 'b', image: 'img:1', ports: ['8080:80'] } });
  const a = service('a', 1, { version: 2, container: { name: 'a', image: 'img:2', ports: ['8080:80'] } });
  const rs = [replica('a', 0, 'n1'), replica('b', 0, 'n1')];
  const plan = reconcile({ services: [a, b], replicas: rs, nodes: [node('n1')], now: NOW });
  assert.deepEqual(plan.stop, [], 'the old a keeps running: its successor could not bind 8080 on n1');
});

test('drain moves replicas one at a time, holding room for each successor: never two down at once', () => {
  const svc = service('web', 3, { container: { name: 'web', image: 'img:1', resources: { cpu: 0, memMb: 1000, diskMb: 0 } } });
  const nodes = [node('a', { status: 'draining' }), node('b', { free: { cpu: 4000, memMb: 1500, diskMb: 100_000 } })];
  const rs = [replica('web', 0, 'a'), replica('web', 1, 'a'), replica('web', 2, 'a')];
  const first = reconcile({ services: [svc], replicas: rs, nodes, now: NOW });
  assert.equal(first.stop.length, 1, 'b has room for one successor, and one move at a time');
  const stopped = applyPlan(rs, first, NOW).map((r) => (r.state === 'stopping' ? { ...r, state: 'stopped' as const } : r));
  const second = reconcile({ services: [svc], replicas: stopped, nodes, now: NOW });
  assert.equal(second.place.length, 1);
  assert.equal(second.place[0]!.node, 'b');
  assert.equal(second.stop.length, 0, 'the next move waits for the successor to run');
});
