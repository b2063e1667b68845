/**
 * `bosun node` on the real engine and broker, order by order: a container left over from a
 * deleted and re-created service (same slot and generation, another spec version) is replaced,
 * never adopted; the same order twice yields one container.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTransport } from '../../../src/adapters/transport-factory.js';
import { NodeAgent } from '../../../src/cluster/node/agent.js';
import { containerSpecFor } from '../../../src/cluster/node/spec.js';
import { nodeQueue, sendToNode, type RunMessage } from '../../../src/cluster/protocol.js';
import { SERVERS, Sealer } from '../../../src/cluster/seal.js';
import { LABEL } from '../../../src/domain/labels.js';
import type { Transport } from '../../../src/ports/transport.js';
import { silentLogger } from '../../../src/util/log.js';
import { AMQP_URL } from '../../helpers/agent.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine } from '../../helpers/docker.js';

const engine = testEngine();
const runId = newRunId();
const node = `${runId}-solo`;
const key = Buffer.from(`${runId}-node-agent-test-key-0123456789abcdef`);
const server = new Sealer({ key, self: SERVERS });
let transport: Transport;
let agent: NodeAgent;

const order = (specVersion: number): RunMessage => ({
  type: 'run', service: `${runId}svc`, slot: 0, generation: 1, specVersion,
  container: { name: 'c', image: TEST_IMAGE, cmd: ['sleep', '3600'], labels: { [LABEL.test]: runId } },
});
const slot = () => engine.containers.list({ all: true, labels: { [LABEL.node]: node, [LABEL.service]: `${runId}svc` } });

before(async () => {
  transport = await createTransport(AMQP_URL, silentLogger);
  await transport.connect();
  agent = new NodeAgent({ name: node, engine, transport, sealer: new Sealer({ key, self: node }), log: silentLogger, heartbeatMs: 60_000 });
  await agent.start();
});
after(async () => {
  await agent.stop();
  await transport.close();
  await removeTestContainers(engine, runId);
});

test('a same-generation container of another spec version (a re-created service) is replaced, not adopted', async () => {
  const { id: foreign } = await engine.containers.create({ ...containerSpecFor(order(1), node), stopSignal: 'SIGKILL' });
  await engine.containers.start(foreign);
  await sendToNode(transport, server, node, order(2));
  await eventually('replaced by spec version 2', async () => {
    const cs = await slot();
    return cs.length === 1 && cs[0]!.labels[LABEL.specHash] === '2' && cs[0]!.status === 'running';
  }, 30_000);
  assert.equal(await engine.containers.inspect(foreign), undefined);
});

test('the same run order twice yields one container', async () => {
  const before = (await slot()).map((c) => c.id);
  await sendToNode(transport, server, node, order(2));
  await sendToNode(transport, server, node, order(2));
  await new Promise((r) => setTimeout(r, 1500));
  await eventually('orders drained', async () => (await transport.depth(nodeQueue(node))) === 0, 10_000);
  assert.deepEqual((await slot()).map((c) => c.id), before);
});
