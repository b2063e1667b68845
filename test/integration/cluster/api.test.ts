/**
 * REST API against a real (embedded) store and a recording transport: seed 001 routes,
 * bosun's own, auth, and errors that name the field. Controller ticks are driven by hand.
 */
import { bosunTestDir, removeBosunTestDir } from '../../helpers/bosun-root.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { openClusterStore, type SqlClusterStore } from '../../../src/adapters/store-sql/sql-store.js';
import { buildApi } from '../../../src/cluster/server/api.js';
import { Controller } from '../../../src/cluster/server/controller.js';
import { createClusterMetrics } from '../../../src/cluster/server/metrics.js';
import { PolicySchema } from '../../../src/domain/policy.js';
import { SERVERS, Sealer } from '../../../src/cluster/seal.js';
import type { Transport } from '../../../src/ports/transport.js';
import { silentLogger } from '../../../src/util/log.js';

const sent: { exchange: string; key: string; body: unknown }[] = [];
const transport = {
  kind: 'amqp', connect: async () => undefined, declareChannel: async () => undefined, consume: async () => ({ cancel: async () => undefined }),
  publish: async () => undefined, depth: async () => 0, isConnected: () => true, close: async () => undefined,
  publishRouted: async (exchange: string, key: string, body: Buffer | string) => void sent.push({ exchange, key, body: JSON.parse(body.toString()) }),
} satisfies Transport;

// orders unsealed so the recording transport can read them (sealing is tested in security/cluster-node)
const sealer = new Sealer({ key: undefined, self: SERVERS });
let store: SqlClusterStore;
let app: FastifyInstance;
let controller: Controller;
const auth = { authorization: 'Bearer s3cret' };

before(async () => {
  store = await openClusterStore('memory:');
  const metrics = createClusterMetrics();
  controller = new Controller({ store, transport, sealer, log: silentLogger, holder: 'test', metrics });
  app = buildApi({ store, controller, log: silentLogger, token: 's3cret', heartbeatGraceMs: 60_000, metrics: metrics.registry });
  for (const n of ['n1', 'n2', 'n3']) await store.recordHeartbeat({ name: n, labels: { zone: n === 'n3' ? 'b' : 'a' }, free: { cpu: 2000, memMb: 4096, diskMb: 10_000 }, at: Date.now() });
  await store.acquireLease('controller', 'test', 60_000);
  await (controller as unknown as { bidForLease(): Promise<void> }).bidForLease();
});
after(async () => {
  await app.close();
  await store.close();
});

test('auth: no token → 401 with a code', async () => {
  const r = await app.inject({ method: 'GET', url: '/state' });
  assert.equal(r.statusCode, 401);
  assert.equal(r.json().error.code, 'policy_denied');
  assert.equal((await app.inject({ method: 'GET', url: '/openapi.json' })).statusCode, 200);
});

test('seed POST /service creates, the controller places 3 replicas on 3 nodes, /state shows them', async () => {
  const body = { services: [{ serviceName: 'web', replicas: 3, container: { name: 'web-c', image: 'bosun-busybox:latest' } }] };
  const r = await app.inject({ method: 'POST', url: '/service', headers: auth, payload: body });
  assert.equal(r.statusCode, 200);
  assert.equal(r.json().services[0].action, 'created');
  await controller.tick();
  const runs = sent.filter((s) => (s.body as { type: string }).type === 'run');
  assert.deepEqual(runs.map((s) => s.key).sort(), ['n1', 'n2', 'n3']);
  assert.ok(runs.every((s) => s.exchange === 'co_topic'));
  const state = (await app.inject({ method: 'GET', url: '/state', headers: auth })).json();
  assert.deepEqual(state.services, [{ web: '0/3' }]);
  assert.equal(state.containers.length, 3);
  const cs = (await app.inject({ method: 'GET', url: '/container_state', headers: auth })).json();
  assert.ok(cs.every((c: { state: string; reason: string }) => c.state === 'queue' && /placed on n\d/.test(c.reason)));
  const ss = (await app.inject({ method: 'POST', url: '/service_state', headers: auth, payload: { name: 'web' } })).json();
  assert.deepEqual(ss[0].nodes, ['n1', 'n2', 'n3']);
});

test('seed POST /service scales; an image change is refused naming the field', async () => {
  const scale = await app.inject({ method: 'POST', url: '/service', headers: auth, payload: { services: [{ serviceName: 'web', replicas: 1, container: { name: 'web-c', image: 'bosun-busybox:latest' } }] } });
  assert.equal(scale.json().services[0].action, 'scaled');
  const plan = await controller.tick();
  assert.equal(plan.stop.length, 2);
  const bad = await app.inject({ method: 'POST', url: '/service', headers: auth, payload: { services: [{ serviceName: 'web', replicas: 1, container: { name: 'web-c', image: 'other' } }] } });
  assert.equal(bad.statusCode, 409);
  assert.equal(bad.json().error.field, 'services.0.container.image');
});

test('malformed requests → 400 with code and field', async () => {
  const cases: [string, string, unknown, string | undefined][] = [
    ['POST', '/service', { services: [{ serviceName: 'x; rm -rf /', replicas: 1, container: { name: 'a', image: 'i' } }] }, 'services.0.serviceName'],
    ['POST', '/service', { services: [{ serviceName: 'x', replicas: -1, container: { name: 'a', image: 'i' } }] }, 'services.0.replicas'],
    ['PUT', '/services/api', { replicas: 2, container: { name: 'api', image: 'i', ports: ['nope'] } }, 'container.ports.0'],
    ['POST', '/recommendNodes', { replicas: 'many' }, 'replicas'],
  ];
  for (const [method, url, payload, field] of cases) {
    const r = await app.inject({ method: method as 'POST', url, headers: auth, payload: payload as object });
    assert.equal(r.statusCode, 400, `${url} ${r.body}`);
    assert.equal(r.json().error.code, 'invalid_message');
    assert.equal(r.json().error.field, field);
  }
  const notJson = await app.inject({ method: 'POST', url: '/service', headers: { ...auth, 'content-type': 'application/json' }, payload: '{nope' });
  assert.equal(notJson.statusCode, 400);
  assert.equal(notJson.json().error.code, 'bad_json');
});

test('own API: PUT with constraints, explain unplaced, drain, delete, recommendNodes', async () => {
  const put = await app.inject({ method: 'PUT', url: '/services/api', headers: auth, payload: { replicas: 2, container: { name: 'api', image: 'i', env: ['A=1'] }, constraints: [{ label: 'zone', op: '=', value: 'b' }] } });
  assert.equal(put.statusCode, 201);
  await controller.tick();
  let svc = (await app.inject({ method: 'GET', url: '/services/api', headers: auth })).json();
  assert.deepEqual(svc.assignments.map((a: { node: string }) => a.node), ['n3', 'n3']);
  const huge = await app.inject({ method: 'PUT', url: '/services/huge', headers: auth, payload: { replicas: 1, container: { name: 'h', image: 'i', resources: { cpu: 1, memMb: 1e9, diskMb: 0 } } } });
  assert.equal(huge.statusCode, 201);
  await controller.tick();
  svc = (await app.inject({ method: 'GET', url: '/services/huge', headers: auth })).json();
  assert.match(svc.status.unplaced[0].reason, /3 insufficient memory/);
  const drain = await app.inject({ method: 'POST', url: '/nodes/n3/drain', headers: auth });
  assert.equal(drain.json().status, 'draining');
  assert.equal((await app.inject({ method: 'POST', url: '/nodes/ghost/drain', headers: auth })).statusCode, 404);
  const rec = (await app.inject({ method: 'POST', url: '/recommendNodes', headers: auth, payload: { nodes: [], replicas: 2 } })).json();
  assert.equal(rec.nodes.length, 2);
  assert.ok(!rec.nodes.includes('n3'));
  assert.equal((await app.inject({ method: 'DELETE', url: '/services/huge', headers: auth })).statusCode, 202);
  await controller.tick();
  await controller.tick();
  assert.equal((await app.inject({ method: 'GET', url: '/services/huge', headers: auth })).statusCode, 404);
  const nodes = (await app.inject({ method: 'GET', url: '/nodes', headers: auth })).json();
  assert.equal(nodes.nodes.length, 3);
});

test('GET /metrics: Prometheus text behind the token — leader, placements, replicas by state, reconcile time', async () => {
  assert.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
  await controller.tick();
  const r = await app.inject({ method: 'GET', url: '/metrics', headers: auth });
  assert.equal(r.statusCode, 200);
  assert.match(String(r.headers['content-type']), /text\/plain/);
  const value = (name: string) => Number(r.body.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))?.split(' ').at(-1));
  assert.equal(value('bosun_cluster_leader'), 1);
  assert.ok(value('bosun_cluster_placements_total') >= 3, r.body);
  assert.equal(value('bosun_cluster_nodes'), 3);
  assert.ok(value('bosun_cluster_reconcile_seconds_count') >= 2);
  assert.match(r.body, /bosun_cluster_replicas\{state="pending"\} \d+/);
});

test('run orders of replicas still pending are sent again (lost orders repaired), once per interval', async () => {
  const later = new Controller({ store, transport, sealer, log: silentLogger, holder: 'test', clock: { now: () => Date.now() + 6_000 }, resendPendingMs: 5_000 });
  await (later as unknown as { bidForLease(): Promise<void> }).bidForLease();
  const pending = (await store.listReplicas()).filter((r) => r.desired === 'run' && r.state === 'pending');
  assert.ok(pending.length > 0);
  sent.length = 0;
  await later.tick();
  const resent = sent.filter((s) => (s.body as { type: string }).type === 'run').map((s) => s.body as { service: string; slot: number; generation: number });
  assert.deepEqual(resent.map((b) => `${b.service}/${b.slot}/${b.generation}`).sort(), pending.map((r) => `${r.service}/${r.slot}/${r.generation}`).sort());
  sent.length = 0;
  await later.tick();
  assert.equal(sent.filter((s) => (s.body as { type: string }).type === 'run').length, 0, 'not again within the interval');
});

test('auth: a wrong token of any length → 401; no API is built without a token unless insecure', async () => {
  for (const authorization of ['Bearer s3cre', 'Bearer s3cret!', 'Bearer S3CRET', 's3cret', 'Basic czNjcmV0']) {
    const r = await app.inject({ method: 'PUT', url: '/services/anon', headers: { authorization }, payload: { replicas: 1, container: { name: 'a', image: 'i' } } });
    assert.equal(r.statusCode, 401, authorization);
    assert.equal(r.json().error.field, 'authorization');
  }
  assert.equal((await app.inject({ method: 'GET', url: '/services/anon', headers: auth })).statusCode, 404, 'nothing was stored');
  assert.throws(() => buildApi({ store, controller, log: silentLogger, heartbeatGraceMs: 1 }), (e: { code?: string; field?: string }) => e.code === 'policy_denied' && e.field === 'token');
  const open = buildApi({ store, controller, log: silentLogger, heartbeatGraceMs: 1, insecureNoAuth: true });
  assert.equal((await open.inject({ method: 'GET', url: '/services' })).statusCode, 200);
  await open.close();
});

test('unknown fields are errors naming them, never dropped', async () => {
  const cases: [string, string, unknown, string][] = [
    ['PUT', '/services/strict', { replicas: 1, container: { name: 'a', image: 'i', privileged: true } }, 'container.privileged'],
    ['PUT', '/services/strict', { replicas: 1, container: { name: 'a', image: 'i' }, replica: 3 }, 'replica'],
    ['PUT', '/services/strict', { replicas: 1, container: { name: 'a', image: 'i', resources: { cpu: 1, memMb: 1, diskMb: 1, gpus: 1 } } }, 'container.resources.gpus'],
    ['PUT', '/services/strict', { replicas: 1, container: { name: 'a', image: 'i' }, constraints: [{ label: 'zone', op: '=', value: 'a', weight: 2 }] }, 'constraints.0.weight'],
    ['POST', '/service', { services: [{ serviceName: 'strict', replicas: 1, container: { name: 'a', image: 'i', Binds: ['/:/host'] } }] }, 'services.0.container.Binds'],
  ];
  for (const [method, url, payload, field] of cases) {
    const r = await app.inject({ method: method as 'PUT', url, headers: auth, payload: payload as object });
    assert.equal(r.statusCode, 400, `${field}: ${r.body}`);
    assert.equal(r.json().error.code, 'invalid_message');
    assert.equal(r.json().error.field, field);
    assert.match(r.json().error.message, /unknown field/);
  }
  assert.equal((await app.inject({ method: 'GET', url: '/services/strict', headers: auth })).statusCode, 404);
});

test('replicas per service are capped (default 100, --max-replicas) with an error naming the field', async () => {
  const r = await app.inject({ method: 'PUT', url: '/services/many', headers: auth, payload: { replicas: 10_000, container: { name: 'a', image: 'i' } } });
  assert.equal(r.statusCode, 400);
  assert.equal(r.json().error.field, 'replicas');
  assert.match(r.json().error.message, /at most 100 replicas/);
  const seed = await app.inject({ method: 'POST', url: '/service', headers: auth, payload: { services: [{ serviceName: 'many', replicas: 101, container: { name: 'a', image: 'i' } }] } });
  assert.equal(seed.json().error.field, 'services.0.replicas');
  const small = buildApi({ store, controller, log: silentLogger, token: 's3cret', heartbeatGraceMs: 1, maxReplicas: 5 });
  assert.equal((await small.inject({ method: 'PUT', url: '/services/many', headers: auth, payload: { replicas: 6, container: { name: 'a', image: 'i' } } })).statusCode, 400);
  await small.close();
  assert.equal((await app.inject({ method: 'GET', url: '/services/many', headers: auth })).statusCode, 404);
});

test('a server policy refuses a spec at PUT time: 403 naming the field, nothing stored', async () => {
  const policy = PolicySchema.parse({ images: { allow: ['bosun-busybox:*'] } });
  const own = await openClusterStore('memory:');
  const guarded = buildApi({ store: own, controller, log: silentLogger, token: 's3cret', heartbeatGraceMs: 1, policy });
  const cases: [string, unknown, string][] = [
    ['PUT', { replicas: 1, container: { name: 'a', image: 'evil:1' } }, 'container.image'],
    ['PUT', { replicas: 1, container: { name: 'a', image: 'bosun-busybox:latest', volumes: ['/etc:/host-etc:ro'] } }, 'container.volumes'],
    ['POST', { services: [{ serviceName: 'guarded', replicas: 1, container: { name: 'a', image: 'evil:1' } }] }, 'services.0.container.image'],
  ];
  for (const [method, payload, field] of cases) {
    const r = await guarded.inject({ method: method as 'PUT', url: method === 'PUT' ? '/services/guarded' : '/service', headers: auth, payload: payload as object });
    assert.equal(r.statusCode, 403, r.body);
    assert.equal(r.json().error.code, 'policy_denied');
    assert.equal(r.json().error.field, field);
  }
  assert.equal((await guarded.inject({ method: 'GET', url: '/services/guarded', headers: auth })).statusCode, 404);
  const data = bosunTestDir('api-policy');
  try {
    const ok = await guarded.inject({ method: 'PUT', url: '/services/guarded', headers: auth, payload: { replicas: 0, container: { name: 'a', image: 'bosun-busybox:latest', volumes: [`${data}:/data`] } } });
    assert.equal(ok.statusCode, 201, ok.body);
  } finally {
    removeBosunTestDir(data);
  }
  await guarded.close();
  await own.close();
});
