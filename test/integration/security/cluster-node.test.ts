/**
 * The cluster under attack, on the real broker and engine: a `bosun server` (in process, embedded
 * store) and a `bosun node` agent with a cluster key and the default policy. Forged, re-keyed,
 * stale, misaddressed and replayed orders published straight to `co_topic` or the node's queue
 * start nothing (each is first shown to be handled: the node's rejection metric); a forged report
 * changes nothing; the node's policy refuses a forbidden bind and an all-interfaces port, and the
 * refusal is what GET /services/x reports.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import type { Registry } from 'prom-client';
import { openClusterStore, type SqlClusterStore } from '../../../src/adapters/store-sql/sql-store.js';
import { createTransport } from '../../../src/adapters/transport-factory.js';
import { NodeAgent } from '../../../src/cluster/node/agent.js';
import { NODE_EXCHANGE, REPORTS_CHANNEL, nodeQueue, type RunMessage } from '../../../src/cluster/protocol.js';
import { SERVERS, Sealer } from '../../../src/cluster/seal.js';
import { startClusterServer, type RunningServer } from '../../../src/cluster/server/server.js';
import { LABEL } from '../../../src/domain/labels.js';
import { DEFAULT_POLICY } from '../../../src/domain/policy.js';
import type { Transport } from '../../../src/ports/transport.js';
import { silentLogger } from '../../../src/util/log.js';
import { AMQP_URL } from '../../helpers/agent.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine } from '../../helpers/docker.js';

const engine = testEngine();
const runId = newRunId();
const node = `${runId}-n`;
const key = Buffer.from(randomBytes(32).toString('hex'));
const token = randomBytes(24).toString('hex');
const port = 16_000 + Math.floor(Math.random() * 1000);
const spyQueue = `${runId}-orders-spy`;
let store: SqlClusterStore;
let serverTransport: Transport;
let nodeTransport: Transport;
let server: RunningServer;
let agent: NodeAgent;
let conn: amqp.ChannelModel;
let ch: amqp.ConfirmChannel;
const captured: Buffer[] = [];

interface Assignment { state: string; reason?: string; desired: string; generation: number }
interface View { status?: { running?: number }; assignments: Assignment[] }

async function api<T = unknown>(method: string, path: string, body?: unknown, auth: string | undefined = `Bearer ${token}`): Promise<{ status: number; json: T }> {
  const headers: Record<string, string> = { ...(auth ? { authorization: auth } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) };
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, json: (await res.json()) as T };
}

async function counter(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  return m?.values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((a, v) => a + v.value, 0) ?? 0;
}

const containersOf = (service: string) => engine.containers.list({ all: true, labels: { [LABEL.service]: service, [LABEL.node]: node } });
const svc = (name: string, extra: Record<string, unknown> = {}) => ({ replicas: 1, container: { name: 'c', image: TEST_IMAGE, cmd: ['sleep', '3600'], labels: { [LABEL.test]: runId }, ...extra } });
const forgedOrder = (service: string): RunMessage => ({
  type: 'run', service, slot: 0, generation: 1, specVersion: 1,
  container: { name: 'c', image: TEST_IMAGE, cmd: ['sleep', '3600'], labels: { [LABEL.test]: runId } },
});

before(async () => {
  store = await openClusterStore('memory:');
  serverTransport = await createTransport(AMQP_URL, silentLogger);
  nodeTransport = await createTransport(AMQP_URL, silentLogger);
  server = await startClusterServer({
    store, transport: serverTransport, log: silentLogger, host: '127.0.0.1', port, token, clusterKey: key, holder: runId,
    tickMs: 100, planner: { heartbeatGraceMs: 5_000, backoffBaseMs: 60_000 },
  });
  agent = new NodeAgent({ name: node, engine, transport: nodeTransport, sealer: new Sealer({ key, self: node }), policy: DEFAULT_POLICY, log: silentLogger, heartbeatMs: 300 });
  await agent.start();
  conn = await amqp.connect(AMQP_URL);
  ch = await conn.createConfirmChannel();
  // a copy of every order the server sends this node, as an eavesdropper on the broker would get
  await ch.assertQueue(spyQueue, { exclusive: true });
  await ch.bindQueue(spyQueue, NODE_EXCHANGE, node);
  await ch.consume(spyQueue, (m) => m && captured.push(m.content), { noAck: true });
  await eventually('node ready', async () => (await api<{ nodes: { name: string; status: string }[] }>('GET', '/nodes')).json.nodes.some((n) => n.name === node && n.status === 'ready'), 30_000, 200);
});

after(async () => {
  await agent?.stop();
  await server?.close();
  await ch?.deleteQueue(nodeQueue(node)).catch(() => undefined);
  await conn?.close().catch(() => undefined);
  await serverTransport?.close();
  await nodeTransport?.close();
  await store?.close();
  await removeTestContainers(engine, runId);
});

test('sealed orders work end to end: a service runs on the node', async () => {
  assert.equal((await api('PUT', `/services/${runId}ok`, svc(`${runId}ok`))).status, 201);
  await eventually('replica running', async () => (await containersOf(`${runId}ok`)).some((c) => c.status === 'running'), 30_000, 150);
  await eventually('reported running', async () => (await api<View>('GET', `/services/${runId}ok`)).json.status?.running === 1, 10_000, 150);
  assert.ok(captured.length > 0 && captured.every((b) => JSON.parse(b.toString()).sig), 'orders on the wire are sealed');
});

test('an anonymous PUT to the real server is refused 401 and starts nothing', async () => {
  const r = await api<{ error: { code: string; field: string } }>('PUT', `/services/${runId}anon`, svc(`${runId}anon`, { ports: ['0.0.0.0:83:80'] }), '');
  assert.equal(r.status, 401);
  assert.equal(r.json.error.field, 'authorization');
  assert.equal((await api('GET', `/services/${runId}anon`)).status, 404);
  assert.deepEqual(await containersOf(`${runId}anon`), []);
});

test('forged orders on co_topic or the node queue are refused (metric) and start nothing', async () => {
  const other = new Sealer({ key: Buffer.from(randomBytes(32).toString('hex')), self: SERVERS });
  const genuine = new Sealer({ key, self: SERVERS });
  const past = new Sealer({ key, self: SERVERS, now: () => Date.now() - 120_000 });
  const forgeries: [string, string, () => void][] = [
    ['unsigned', 'plain', () => ch.publish(NODE_EXCHANGE, node, Buffer.from(JSON.stringify(forgedOrder(`${runId}plain`))))],
    ['unsigned', 'queue', () => ch.sendToQueue(nodeQueue(node), Buffer.from(JSON.stringify(forgedOrder(`${runId}queue`))))],
    ['bad_signature', 'otherkey', () => ch.publish(NODE_EXCHANGE, node, Buffer.from(other.seal(node, forgedOrder(`${runId}otherkey`))))],
    ['stale', 'stale', () => ch.publish(NODE_EXCHANGE, node, Buffer.from(past.seal(node, forgedOrder(`${runId}stale`))))],
    ['misaddressed', 'elsewhere', () => ch.publish(NODE_EXCHANGE, node, Buffer.from(genuine.seal(`${node}-other`, forgedOrder(`${runId}elsewhere`))))],
  ];
  for (const [reason, name, publish] of forgeries) {
    const before = await counter(agent.metrics.registry, 'bosun_node_orders_rejected_total', { reason });
    publish();
    await ch.waitForConfirms();
    await eventually(`${name}: refused as ${reason}`, async () => (await counter(agent.metrics.registry, 'bosun_node_orders_rejected_total', { reason })) > before, 10_000, 50);
    assert.deepEqual(await containersOf(`${runId}${name}`), [], `${name}: no container`);
  }
});

test('a forged report (unsigned "exited") is refused by the server and changes nothing', async () => {
  const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
  const rejected = (text: string) => Number(/bosun_cluster_reports_rejected_total\{reason="unsigned"\} (\d+)/.exec(text)?.[1] ?? 0);
  const before = rejected(await metrics());
  const [live] = (await api<View>('GET', `/services/${runId}ok`)).json.assignments.filter((a) => a.desired === 'run');
  const forged = { type: 'replica', node, sentAt: Date.now(), container: { service: `${runId}ok`, slot: 0, generation: live!.generation, status: 'exited', exitCode: 137 } };
  ch.sendToQueue(REPORTS_CHANNEL, Buffer.from(JSON.stringify(forged)));
  await ch.waitForConfirms();
  await eventually('report refused', async () => rejected(await metrics()) > before, 10_000, 100);
  const v = (await api<View>('GET', `/services/${runId}ok`)).json;
  assert.equal(v.status?.running, 1);
  assert.ok(v.assignments.every((a) => a.state !== 'failed'), JSON.stringify(v.assignments));
});

test('a captured order replayed after the service was deleted is refused and resurrects nothing', async () => {
  const run = captured.find((b) => {
    const { payload } = JSON.parse(b.toString()) as { payload: string };
    const { msg } = JSON.parse(payload) as { msg: { type?: string; service?: string } };
    return msg.type === 'run' && msg.service === `${runId}ok`;
  });
  assert.ok(run, 'the run order was captured');
  assert.equal((await api('DELETE', `/services/${runId}ok`)).status, 202);
  await eventually('replica removed', async () => (await containersOf(`${runId}ok`)).length === 0, 30_000, 150);
  const before = await counter(agent.metrics.registry, 'bosun_node_orders_rejected_total', { reason: 'replayed' });
  ch.publish(NODE_EXCHANGE, node, run);
  await ch.waitForConfirms();
  await eventually('replay refused', async () => (await counter(agent.metrics.registry, 'bosun_node_orders_rejected_total', { reason: 'replayed' })) > before, 10_000, 50);
  assert.deepEqual(await containersOf(`${runId}ok`), []);
});

for (const [what, name, extra, field] of [
  ['binding a forbidden host path (/etc)', 'bind', { volumes: ['/etc:/host-etc:ro'] }, /container\.volumes/],
  ['publishing a port on all interfaces (0.0.0.0)', 'port', { ports: ['0.0.0.0:18080:80'] }, /container\.ports/],
] as const) {
  test(`the node's policy refuses a replica ${what}: reported with the policy error, no container`, async () => {
    const service = `${runId}${name}`;
    const refusedBefore = await counter(agent.metrics.registry, 'bosun_node_replicas_refused_total');
    assert.equal((await api('PUT', `/services/${service}`, svc(service, extra))).status, 201, 'the server has no policy: only the node can refuse');
    const failed = await eventually('refusal reported', async () => (await api<View>('GET', `/services/${service}`)).json.assignments.find((a) => a.state === 'failed'), 30_000, 150);
    assert.match(failed.reason ?? '', /^policy_denied: /);
    assert.match(failed.reason ?? '', field);
    assert.ok((await counter(agent.metrics.registry, 'bosun_node_replicas_refused_total')) > refusedBefore);
    assert.deepEqual(await containersOf(service), []);
    assert.equal((await api('DELETE', `/services/${service}`)).status, 202);
  });
}
