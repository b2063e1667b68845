/**
 * The cluster end to end: 3 extra Docker engines each with a `bosun node`, two `bosun server`s
 * on one fresh PostgreSQL database, the real broker. Scenarios run in order on one cluster
 * (engines are slow to start): create, node death, node return without duplicates, scale,
 * bad image with backoff, malformed broker messages, leader death.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { LABEL } from '../../../src/domain/labels.js';
import { REPORTS_CHANNEL, nodeQueue } from '../../../src/cluster/protocol.js';
import { eventually, newRunId, TEST_IMAGE } from '../../helpers/docker.js';
import { removeEngineDirs, startEngine } from '../../helpers/engines.js';
import { BROKER, Cluster, freshDatabase, killProc, sum } from './harness.js';

const runId = newRunId();
const dir = join(tmpdir(), `bosun-cluster-${runId}`);
let cluster: Cluster;
let dropDb: (() => Promise<void>) | undefined;
const P1 = 15_100 + Math.floor(Math.random() * 400);
const P2 = P1 + 500;

interface ServiceView { status: { running?: number; delayed?: { slot: number; notBefore: number; lastReason?: string }[] }; assignments: { node: string; state: string; generation: number; reason?: string; desired: string }[] }

const web = (replicas: number) => ({ replicas, container: { name: 'web', image: TEST_IMAGE, cmd: ['sleep', '3600'], labels: { [LABEL.test]: runId } } });

async function converged(service: string, want: number, server = 's1', exclude?: string): Promise<Map<string, number>> {
  return eventually(`${service} at ${want} running`, async () => {
    const running = await cluster.running(service);
    if (sum(running) !== want || (exclude && (running.get(exclude) ?? 0) > 0)) return undefined;
    const v = await cluster.api<ServiceView>(server, 'GET', `/services/${service}`);
    return v.json.status.running === want ? running : undefined;
  }, 30_000, 150);
}

before(async () => {
  mkdirSync(dir, { recursive: true });
  const db = await freshDatabase(runId);
  dropDb = db.drop;
  cluster = new Cluster(dir, runId, db.url);
  cluster.startServer('s1', P1);
  for (const [i, short] of ['n1', 'n2', 'n3'].entries()) await cluster.addNode(short, i);
  await cluster.waitApi('s1');
  cluster.startServer('s2', P2);
  await cluster.waitApi('s2');
  await eventually('3 nodes ready', async () => {
    const r = await cluster.api<{ nodes: { status: string }[] }>('s1', 'GET', '/nodes');
    return r.json.nodes.filter((n) => n.status === 'ready').length === 3;
  }, 30_000, 200);
});

after(async () => {
  await cluster?.stopAll();
  await dropDb?.();
  removeEngineDirs(dir);
});

test('seed POST /service: 3 replicas spread over 3 nodes', async () => {
  const r = await cluster.api('s1', 'POST', '/service', { services: [{ serviceName: 'web', replicas: 3, container: { name: 'web', image: TEST_IMAGE } }] });
  assert.equal(r.status, 200);
  // seed 001's body has no command or labels: give the replicas a long-running command and our test label
  assert.equal((await cluster.api('s1', 'PUT', '/services/web', web(3))).status, 200);
  const running = await converged('web', 3);
  assert.deepEqual([...running.values()], [1, 1, 1]);
  const state = await cluster.api<{ services: Record<string, string>[] }>('s2', 'GET', '/state');
  assert.deepEqual(state.json.services, [{ web: '3/3' }]);
});

test('a node dies (agent SIGKILLed, engine stopped): its replica is restored elsewhere', async () => {
  const n3 = cluster.nodes[2]!;
  await killProc(n3.agent, 'SIGKILL');
  await n3.engine.stop();
  const running = await converged('web', 3, 's1', n3.name);
  assert.equal(sum(running), 3);
  const v = await cluster.api<ServiceView>('s1', 'GET', '/services/web');
  assert.ok(v.json.assignments.some((a) => a.node === n3.name && a.state === 'lost'), 'the lost replica is visible');
});

test('the node comes back: its stale replica is fenced, never more than 3 run, it takes new work', async () => {
  const n3 = cluster.nodes[2]!;
  n3.engine = await startEngine(dir, 'n3', 2);
  // Its old container survived the engine restart (exited); start it again to play a stale replica running.
  const stale = await n3.engine.engine.containers.list({ all: true, labels: { [LABEL.service]: 'web', [LABEL.test]: runId } });
  for (const c of stale) await n3.engine.engine.containers.start(c.id);
  cluster.startAgent(n3);
  await eventually('stale replica fenced', async () => (await n3.engine.engine.containers.list({ all: true, labels: { [LABEL.service]: 'web', [LABEL.test]: runId } })).length === 0, 30_000, 150);
  assert.equal(sum(await converged('web', 3)), 3);
  assert.equal((await cluster.api('s1', 'PUT', '/services/web', web(5))).status, 200);
  const five = await converged('web', 5);
  assert.ok((five.get(n3.name) ?? 0) >= 1, 'the returned node takes new work');
});

test('scale down converges', async () => {
  const r = await cluster.api<{ services: { action: string }[] }>('s1', 'POST', '/service', { services: [{ serviceName: 'web', replicas: 2, container: { name: 'web', image: TEST_IMAGE } }] });
  assert.equal(r.json.services[0]?.action, 'scaled');
  await converged('web', 2);
});

test('a bad image is reported with its reason and retried with backoff, not in a flood', async () => {
  const put = await cluster.api('s1', 'PUT', '/services/bad', { replicas: 1, container: { name: 'bad', image: `bosun-no-such-image-${runId}:latest`, labels: { [LABEL.test]: runId } } });
  assert.equal(put.status, 201);
  const v = await eventually('backoff after failures', async () => {
    const s = await cluster.api<ServiceView>('s1', 'GET', '/services/bad');
    const d = s.json.status.delayed?.[0];
    const gens = Math.max(0, ...s.json.assignments.map((a) => a.generation));
    return d && gens >= 3 ? s.json : undefined;
  }, 30_000, 200);
  assert.match(v.status.delayed?.[0]?.lastReason ?? '', /pull_failed|image_not_found|could not be pulled/);
  assert.ok(v.assignments.some((a) => a.state === 'failed' && /bosun-no-such-image/.test(a.reason ?? '')));
  // the delay doubles: the next attempt is scheduled in the future, not immediately
  assert.ok((v.status.delayed?.[0]?.notBefore ?? 0) > 0);
  assert.equal((await cluster.api('s1', 'DELETE', '/services/bad')).status, 202);
});

test('a container that exits is noticed from its events and replaced, with the exit code as reason', async () => {
  const put = await cluster.api('s1', 'PUT', '/services/crash', { replicas: 1, container: { name: 'crash', image: TEST_IMAGE, cmd: ['sh', '-c', 'sleep 0.3; exit 3'], labels: { [LABEL.test]: runId } } });
  assert.equal(put.status, 201);
  const v = await eventually('exit noticed and retried', async () => {
    const s = await cluster.api<ServiceView>('s1', 'GET', '/services/crash');
    const failed = s.json.assignments.filter((a) => a.state === 'failed');
    return failed.length >= 2 ? s.json : undefined;
  }, 30_000, 200);
  assert.ok(v.assignments.some((a) => a.state === 'failed' && /exited with code 3/.test(a.reason ?? '')), JSON.stringify(v.assignments));
  assert.equal((await cluster.api('s1', 'DELETE', '/services/crash')).status, 202);
});

test('malformed broker messages are parked, consumers keep working', async () => {
  const conn = await amqp.connect(BROKER);
  const ch = await conn.createConfirmChannel();
  ch.sendToQueue(nodeQueue(cluster.nodes[0]!.name), Buffer.from('{not json'));
  ch.sendToQueue(nodeQueue(cluster.nodes[0]!.name), Buffer.from(JSON.stringify({ type: 'run', service: 'x; rm -rf /', slot: -1 })));
  ch.sendToQueue(REPORTS_CHANNEL, Buffer.from(JSON.stringify({ type: 'heartbeat', node: 'evil node' })));
  await ch.waitForConfirms();
  await conn.close();
  assert.equal((await cluster.api('s1', 'PUT', '/services/web', web(3))).status, 200);
  await converged('web', 3);
});

test('rolling update: one replica at a time, never more than N, keeps serving N-1', async () => {
  const before = (await cluster.api<{ version: number }>('s1', 'GET', '/services/web')).json.version;
  const v2 = web(3);
  v2.container.cmd = ['sleep', '3601'];
  assert.equal((await cluster.api('s1', 'PUT', '/services/web', v2)).status, 200);
  let min = Infinity;
  let max = 0;
  await eventually('all replicas on the new version', async () => {
    const total = sum(await cluster.running('web'));
    min = Math.min(min, total);
    max = Math.max(max, total);
    const v = await cluster.api<ServiceView & { version: number }>('s1', 'GET', '/services/web');
    const live = v.json.assignments.filter((a) => a.desired === 'run');
    return v.json.version === before + 1 && live.length === 3 && live.every((a) => a.state === 'running' && (a as { specVersion?: number }).specVersion === before + 1) && total === 3;
  }, 60_000, 100);
  assert.ok(max <= 3, `never above 3 (saw ${max})`);
  assert.ok(min >= 2, `kept serving (saw ${min})`);
});

test('drain: replicas leave the node, it takes no new work until undrained', async () => {
  const n1 = cluster.nodes[0]!;
  assert.equal((await cluster.api('s1', 'POST', `/nodes/${n1.name}/drain`)).status, 200);
  const running = await converged('web', 3, 's1', n1.name);
  assert.equal(running.get(n1.name) ?? 0, 0);
  assert.equal((await cluster.api('s1', 'POST', `/nodes/${n1.name}/undrain`)).status, 200);
});

test('a partitioned node (agent frozen, containers still running) is replaced, then fenced on return', async () => {
  const per = await cluster.running('web');
  const victim = cluster.nodes.find((n) => (per.get(n.name) ?? 0) > 0)!;
  victim.agent!.proc.kill('SIGSTOP');
  try {
    await eventually('replaced elsewhere', async () => {
      let others = 0;
      for (const [name, count] of await cluster.running('web')) if (name !== victim.name) others += count;
      return others === 3;
    }, 30_000, 150);
  } finally {
    victim.agent!.proc.kill('SIGCONT');
  }
  const fenced = await converged('web', 3);
  assert.equal(sum(fenced), 3, 'the stale copies were stopped: exactly 3 run');
});

test('the leading server is killed: the other one leads and converges', async () => {
  const c1 = await cluster.api<{ leader: boolean }>('s1', 'GET', '/controller');
  const leader = c1.json.leader ? 's1' : 's2';
  const other = leader === 's1' ? 's2' : 's1';
  await killProc(cluster.servers.get(leader)!.proc, 'SIGKILL');
  await eventually(`${other} leads`, async () => (await cluster.api<{ leader: boolean }>(other, 'GET', '/controller')).json.leader, 30_000, 200);
  assert.equal((await cluster.api(other, 'PUT', '/services/web', web(4))).status, 200);
  await converged('web', 4, other);
  const nodes = await cluster.api<{ nodes: { status: string }[] }>(other, 'GET', '/nodes');
  assert.equal(nodes.json.nodes.filter((n) => n.status === 'ready').length, 3, 'no false node deaths on failover');
});
