/**
 * One suite, two backends: embedded PGlite and a real PostgreSQL (fresh database per run).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { openClusterStore, type SqlClusterStore } from '../../../src/adapters/store-sql/sql-store.js';
import type { Plan } from '../../../src/domain/cluster.js';
import { newRunId } from '../../helpers/docker.js';

const PG_ADMIN = process.env.BOSUN_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const emptyPlan = (): Plan => ({ place: [], stop: [], unplaced: [], delayed: [], deadNodes: [], purge: [] });

async function withPgDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const db = `bosun_store_${newRunId()}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  await admin.end();
  const url = PG_ADMIN.replace(/\/[^/]*$/, `/${db}`);
  return {
    url,
    drop: async () => {
      const a = new pg.Client({ connectionString: PG_ADMIN });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await a.end();
    },
  };
}

for (const backend of ['pglite', 'postgres'] as const) {
  describe(`cluster store on ${backend}`, () => {
    let store: SqlClusterStore;
    let drop: (() => Promise<void>) | undefined;
    let url = 'memory:';
    before(async () => {
      if (backend === 'postgres') {
        const d = await withPgDatabase();
        url = d.url;
        drop = d.drop;
      }
      store = await openClusterStore(url);
    });
    after(async () => {
      await store.close();
      await drop?.();
    });

    test('migrations are idempotent', async () => {
      await store.migrate();
      await store.migrate();
    });

    test('services: create, scale keeps the version, a template change bumps it, delete', async () => {
      const a = await store.putService({ name: 'web', replicas: 3, container: { name: 'web', image: 'img:1' } }, 1);
      assert.equal(a.created, true);
      assert.equal(a.record.version, 1);
      const b = await store.putService({ name: 'web', replicas: 5, container: { image: 'img:1', name: 'web' } }, 2);
      assert.equal(b.created, false);
      assert.equal(b.record.version, 1);
      assert.equal(b.record.replicas, 5);
      const c = await store.putService({ name: 'web', replicas: 5, container: { name: 'web', image: 'img:2', env: ['A=1'] } }, 3);
      assert.equal(c.record.version, 2);
      assert.deepEqual((await store.getService('web'))?.container.env, ['A=1']);
      assert.equal(await store.deleteService('web', 4), true);
      assert.equal((await store.getService('web'))?.deleted, true);
      assert.equal(await store.deleteService('nope', 4), false);
    });

    test('heartbeats register nodes and never move time backwards; drain', async () => {
      await store.recordHeartbeat({ name: 'n1', labels: { zone: 'a' }, free: { cpu: 2000, memMb: 1024, diskMb: 5000 }, at: 100 });
      await store.recordHeartbeat({ name: 'n1', labels: { zone: 'a' }, free: { cpu: 1000, memMb: 512, diskMb: 5000 }, at: 50 });
      const [n] = await store.listNodes();
      assert.equal(n?.lastHeartbeat, 100);
      assert.equal(n?.free.cpu, 1000);
      assert.deepEqual(n?.labels, { zone: 'a' });
      assert.equal(await store.setNodeStatus('n1', 'draining'), true);
      assert.equal((await store.listNodes())[0]?.status, 'draining');
      assert.equal(await store.setNodeStatus('ghost', 'draining'), false);
    });

    test('leases: one holder at a time, epoch grows on takeover, plans fenced by epoch', async () => {
      const a = await store.acquireLease('controller', 'A', 60_000);
      assert.deepEqual(a, { leader: true, epoch: 1 });
      assert.equal((await store.acquireLease('controller', 'B', 60_000)).leader, false);
      assert.deepEqual(await store.acquireLease('controller', 'A', 60_000), { leader: true, epoch: 1 });
      await store.releaseLease('controller', 'A');
      const b = await store.acquireLease('controller', 'B', 60_000);
      assert.deepEqual(b, { leader: true, epoch: 2 });
      await assert.rejects(store.applyPlan(emptyPlan(), 1, { holder: 'A', epoch: 1 }), (e: Error & { code?: string }) => e.code === 'store_error');
    });

    test('plans and reports: place, one live per slot, stop, updates, purge', async () => {
      const lease = { holder: 'B', epoch: 2 };
      await store.putService({ name: 'api', replicas: 2, container: { name: 'api', image: 'i' } }, 10);
      const plan = emptyPlan();
      const why = { score: [0], refused: {}, feasible: 1 };
      plan.place.push({ service: 'api', slot: 0, generation: 1, node: 'n1', specVersion: 1, attempt: 0, why });
      plan.place.push({ service: 'api', slot: 1, generation: 1, node: 'n1', specVersion: 1, attempt: 0, why });
      await store.applyPlan(plan, 11, lease);
      await store.applyUpdates([{ service: 'api', slot: 0, generation: 1, state: 'running' }, { service: 'api', slot: 1, generation: 1, state: 'failed', reason: 'exited with code 1' }], 12);
      let rs = await store.listReplicas('api');
      assert.deepEqual(rs.map((r) => [r.slot, r.generation, r.state, r.reason ?? null]), [[0, 1, 'running', 'placed on n1: 1 feasible node(s); spread score [0]'], [1, 1, 'failed', 'exited with code 1']]);
      assert.equal(rs[0]?.startedAt, 12, 'running since the report');
      assert.equal(rs[1]?.startedAt, undefined);
      // A second live row for a slot is refused by the store itself.
      const dup = emptyPlan();
      dup.place.push({ service: 'api', slot: 0, generation: 2, node: 'n2', specVersion: 1, attempt: 0, why });
      await assert.rejects(store.applyPlan(dup, 13, lease));
      const move = emptyPlan();
      move.stop.push({ service: 'api', slot: 1, generation: 1, node: 'n1', markAs: 'failed', reason: 'exited with code 1' });
      move.place.push({ service: 'api', slot: 1, generation: 2, node: 'n2', specVersion: 1, attempt: 1, why });
      await store.applyPlan(move, 14, lease);
      rs = await store.listReplicas('api');
      assert.deepEqual(rs.map((r) => [r.slot, r.generation, r.desired, r.state, r.attempt]), [[0, 1, 'run', 'running', 0], [1, 1, 'stop', 'failed', 0], [1, 2, 'run', 'pending', 1]]);
      // a late "running" report cannot revive a replica the controller has decided to stop; "stopped" lands
      const drain = emptyPlan();
      drain.stop.push({ service: 'api', slot: 0, generation: 1, node: 'n1', markAs: 'stopping', reason: 'node n1 draining' });
      await store.applyPlan(drain, 14, lease);
      await store.applyUpdates([{ service: 'api', slot: 0, generation: 1, state: 'running' }], 14);
      assert.equal((await store.listReplicas('api')).find((r) => r.slot === 0)?.state, 'stopping');
      await store.applyUpdates([{ service: 'api', slot: 0, generation: 1, state: 'stopped' }], 14);
      assert.equal((await store.listReplicas('api')).find((r) => r.slot === 0)?.state, 'stopped');
      await store.deleteService('api', 15);
      const purge = emptyPlan();
      purge.purge.push('api');
      await store.applyPlan(purge, 16, lease);
      assert.equal((await store.listReplicas('api')).length, 0);
      assert.equal(await store.getService('api'), undefined);
    });
  });
}

test('history pruning keeps each slot\'s newest row and live rows', async () => {
  const store = await openClusterStore('memory:');
  try {
    await store.acquireLease('controller', 'A', 60_000);
    const why = { score: [0], refused: {}, feasible: 1 };
    const p1 = emptyPlan();
    p1.place.push({ service: 's', slot: 0, generation: 1, node: 'n1', specVersion: 1, attempt: 0, why });
    await store.applyPlan(p1, 1, { holder: 'A', epoch: 1 });
    for (let g = 2; g <= 4; g++) {
      const p = emptyPlan();
      p.stop.push({ service: 's', slot: 0, generation: g - 1, node: 'n1', markAs: 'failed', reason: 'x' });
      p.place.push({ service: 's', slot: 0, generation: g, node: 'n1', specVersion: 1, attempt: g - 1, why });
      await store.applyPlan(p, g, { holder: 'A', epoch: 1 });
    }
    const last = emptyPlan();
    last.stop.push({ service: 's', slot: 0, generation: 4, node: 'n1', markAs: 'failed', reason: 'x' });
    await store.applyPlan(last, 5, { holder: 'A', epoch: 1 });
    assert.equal(await store.pruneHistory(100), 3);
    assert.deepEqual((await store.listReplicas('s')).map((r) => r.generation), [4]);
    assert.deepEqual((await store.listReplicasForReport('n9', ['s'])).map((r) => r.generation), [4]);
    assert.deepEqual(await store.listReplicasForReport('n9', ['other']), []);
  } finally {
    await store.close();
  }
});
