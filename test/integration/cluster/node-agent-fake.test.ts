/**
 * `bosun node` against the in-memory engine and the real broker: replicas started and
 * stopped by orders, reports of what the engine saw (running, exited with its code, missing,
 * start_failed), generation fencing. The engine is the fake (it passes the engine contract);
 * the transport is real RabbitMQ, as no fake transport passes the transport contract.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTransport } from '../../../src/adapters/transport-factory.js';
import { NodeAgent } from '../../../src/cluster/node/agent.js';
import { REPORTS_CHANNEL, sendToNode, type ReplicaMessage, type RunMessage } from '../../../src/cluster/protocol.js';
import { SERVERS, Sealer } from '../../../src/cluster/seal.js';
import { LABEL } from '../../../src/domain/labels.js';
import type { Subscription, Transport } from '../../../src/ports/transport.js';
import { silentLogger } from '../../../src/util/log.js';
import { AMQP_URL } from '../../helpers/agent.js';
import { eventually, newRunId } from '../../helpers/docker.js';
import { FAKE_IMAGE, fakeEngine } from '../../helpers/fake-engine.js';

const runId = newRunId();
const node = `${runId}-fake`;
const svc = `${runId}svc`;
const key = Buffer.from(`${runId}-node-agent-fake-key-0123456789abcdef`);
const server = new Sealer({ key, self: SERVERS });
// `crash` exits with 3 a moment after it starts; everything else runs until stopped.
const engine = fakeEngine([], { behaviour: (spec) => (spec.cmd?.[0] === 'crash' ? { exitCode: 3, runsForMs: 50 } : {}) });
const reports: ReplicaMessage['container'][] = [];
let transport: Transport;
let agent: NodeAgent;
let reading: Subscription;

const order = (slot: number, generation: number, o: Partial<RunMessage['container']> = {}): RunMessage => ({
  type: 'run', service: svc, slot, generation, specVersion: 1,
  container: { name: 'c', image: FAKE_IMAGE, cmd: ['serve'], labels: { [LABEL.test]: runId }, ...o },
});
const slot = (n: number) => engine.containers.list({ all: true, labels: { [LABEL.node]: node, [LABEL.service]: svc, [LABEL.replica]: String(n) } });
const reported = (n: number, status: string) => eventually(`slot ${n} reported ${status}`, async () => reports.find((r) => r.slot === n && r.status === status), 15_000);

before(async () => {
  transport = await createTransport(AMQP_URL, silentLogger);
  await transport.connect();
  await transport.declareChannel(REPORTS_CHANNEL);
  reading = await transport.consume(REPORTS_CHANNEL, async (m) => {
    const msg = JSON.parse(server.open(m.body).body) as { type: string; node: string; container?: ReplicaMessage['container'] };
    if (msg.type === 'replica' && msg.node === node && msg.container) reports.push(msg.container);
    await m.ack();
  }, { prefetch: 16 });
  agent = new NodeAgent({ name: node, engine, transport, sealer: new Sealer({ key, self: node }), log: silentLogger, heartbeatMs: 60_000 });
  await agent.start();
});
after(async () => {
  await agent.stop();
  await reading.cancel();
  await transport.close();
});

describe('node agent on the fake engine', () => {
  it('a run order starts a labelled replica and reports it running; a stop order removes it and reports it missing', async () => {
    await sendToNode(transport, server, node, order(0, 1));
    await reported(0, 'running');
    const [c] = await slot(0);
    assert.equal(c?.status, 'running');
    assert.equal(c?.labels[LABEL.generation], '1');
    assert.equal(c?.labels[LABEL.managed], 'true');
    assert.deepEqual((await engine.containers.inspect(c!.id))?.cmd, ['serve']);
    await sendToNode(transport, server, node, { type: 'stop', service: svc, slot: 0, generation: 1 });
    await reported(0, 'missing');
    assert.deepEqual(await slot(0), []);
    assert.equal(await engine.containers.inspect(c!.id), undefined);
  });

  it('a replica that exits is reported exited with its code, from the engine\'s events', async () => {
    await sendToNode(transport, server, node, order(1, 1, { cmd: ['crash'] }));
    const r = await reported(1, 'exited');
    assert.equal(r.exitCode, 3);
  });

  it('a newer generation replaces the older replica; an older order is then ignored', async () => {
    await sendToNode(transport, server, node, order(2, 1));
    await reported(2, 'running');
    const [old] = await slot(2);
    await sendToNode(transport, server, node, order(2, 2));
    await eventually('generation 2 alone', async () => {
      const cs = await slot(2);
      return cs.length === 1 && cs[0]!.labels[LABEL.generation] === '2' && cs[0]!.status === 'running';
    }, 15_000);
    assert.equal(await engine.containers.inspect(old!.id), undefined);
    // every order so far is acked first (handled counts acks, which follow the engine work)
    await eventually('earlier orders handled', async () => (await agent.metrics.ordersHandled()) === 5, 15_000);
    await sendToNode(transport, server, node, order(2, 1));
    await eventually('stale order handled', async () => (await agent.metrics.ordersHandled()) === 6, 15_000);
    const cs = await slot(2);
    assert.deepEqual(cs.map((c) => c.labels[LABEL.generation]), ['2']);
  });

  it('an image neither present nor in the registry is reported start_failed, and nothing is left', async () => {
    await sendToNode(transport, server, node, order(3, 1, { image: 'example/absent:1' }));
    const r = await reported(3, 'start_failed');
    assert.match(r.error ?? '', /pull_failed|image_not_found/);
    assert.deepEqual(await slot(3), []);
  });
});
