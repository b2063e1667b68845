/**
 * Nothing lost, nothing run twice: agent crash and redelivery, long-run checkpoints, monitors
 * across restarts, graceful shutdown, the errors queue. Real RabbitMQ and Docker.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { LABEL } from '../../../src/domain/labels.js';
import { ERRORS_CHANNEL } from '../../../src/ports/transport.js';
import type { InboundMessage } from '../../../src/ports/transport.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine, uniqueName, containersCreatedFor, eventsSince } from '../../helpers/docker.js';
import { AMQP_URL, TestClient, killChild, queuesSettled, spawnAgent, startTestAgent, tempDir } from '../../helpers/agent.js';

const engine = testEngine();
const runId = newRunId();
const labels = { [LABEL.test]: runId };
let client: TestClient;

const createdFor = (requestId: string, sinceNano: bigint): Promise<number> => containersCreatedFor(engine, requestId, sinceNano);
const nowNano = eventsSince;

describe('agent reliability', () => {
  before(async () => {
    client = await TestClient.connect();
  });
  after(async () => {
    await client.close();
    await removeTestContainers(engine, runId);
  });

  it('a redelivery after an agent crash creates no second container and yields exactly one reply', async () => {
    const since = nowNano();
    const requestId = `crash-${runId}`;
    const channel = `out-${runId}-crash`;
    const inbox = await client.collect(channel);
    const child = await spawnAgent(['--concurrency', '2'], { BOSUN_STATE_DIR: tempDir('crash'), BOSUN_BROKER_URL: AMQP_URL });
    await client.send('start_container.response_channel', { image: TEST_IMAGE, command: 'sh -c "sleep 2; echo survived"', response_channel: channel, labels }, requestId);
    await eventually('run started', async () => (await engine.containers.list({ labels: { [LABEL.request]: requestId }, status: ['running'] })).length === 1);
    await killChild(child);
    const agent = await startTestAgent();
    try {
      await eventually('reply after redelivery', async () => inbox.messages.length >= 1, 30_000);
      await eventually('request and reply queues settled', async () => queuesSettled(['start_container.response_channel', channel]));
      const replies = inbox.json();
      assert.equal(replies.length, 1, JSON.stringify(replies));
      assert.equal(replies[0]?.stdout, 'survived\n');
      assert.equal(replies[0]?.request_id, requestId);
      assert.equal(inbox.messages[0]?.messageId, requestId, 'replies carry the request id as message id');
      assert.equal(await createdFor(requestId, since), 1);
    } finally {
      await inbox.stop();
      await agent.stop();
    }
  });

  it('a run longer than the checkpoint is republished and acked, still replying exactly once', async () => {
    const since = nowNano();
    const requestId = `long-${runId}`;
    const channel = `out-${runId}-long`;
    const inbox = await client.collect(channel);
    const agent = await startTestAgent({ checkpointMs: 700 });
    try {
      await client.send('start_container.response_channel', { image: TEST_IMAGE, command: 'sh -c "sleep 3; echo long"', response_channel: channel, labels }, requestId);
      await eventually('reply', async () => inbox.messages.length >= 1, 30_000);
      await eventually('request and reply queues settled', async () => queuesSettled(['start_container.response_channel', channel]));
      assert.equal(inbox.messages.length, 1);
      assert.equal(inbox.json()[0]?.stdout, 'long\n');
      assert.equal(await agent.transport.depth('start_container.response_channel'), 0);
      assert.equal(await createdFor(requestId, since), 1);
    } finally {
      await inbox.stop();
      await agent.stop();
    }
  });

  it('monitors survive an agent restart', async () => {
    const stateDir = tempDir('mon');
    const name = uniqueName(`monr-${runId}`);
    await engine.containers.create({ image: TEST_IMAGE, name, cmd: ['sleep', '60'], labels: { ...labels, [LABEL.managed]: 'true' }, stopTimeoutSec: 0 });
    await engine.containers.start(name);
    const channel = `mon-${runId}-restart`;
    const inbox = await client.collect(channel);
    const first = await startTestAgent({ stateDir });
    await client.request('monitor_container_status', { name, response_channel: channel, interval: 60 });
    await first.stop();
    await engine.containers.stop(name, { timeoutSec: 0 });
    assert.equal(inbox.messages.length, 0);
    const second = await startTestAgent({ stateDir });
    try {
      await eventually('notice after restart', async () => inbox.messages.length === 1, 20_000);
      assert.equal(inbox.json()[0]?.container, name);
      assert.equal(inbox.json()[0]?.current_status, 'exited');
    } finally {
      await inbox.stop();
      await second.stop();
    }
  });

  it('graceful shutdown finishes in-flight runs before stopping', async () => {
    const channel = `out-${runId}-graceful`;
    const inbox = await client.collect(channel);
    const agent = await startTestAgent();
    const requestId = `grace-${runId}`;
    await client.send('start_container.response_channel', { image: TEST_IMAGE, command: 'sh -c "sleep 2; echo finished"', response_channel: channel, labels }, requestId);
    await eventually('run started', async () => (await engine.containers.list({ labels: { [LABEL.request]: requestId }, status: ['running'] })).length === 1);
    await agent.stop();
    assert.equal(inbox.messages.length, 1, 'the reply was out before stop() returned');
    assert.equal(inbox.json()[0]?.stdout, 'finished\n');
    await inbox.stop();
  });

  it('rejected messages land on bosun.errors with the original body, and the sender gets a clear error', async () => {
    // Its own errors queue: the shared bosun.errors may hold older records ahead of ours.
    const errorsChannel = `${ERRORS_CHANNEL}.${runId}`;
    const agent = await startTestAgent({ errorsChannel });
    const parked: InboundMessage[] = [];
    const ids = [`bad-json-${runId}`, `bad-field-${runId}`, `policy-${runId}`];
    const sub = await client.transport.consume(errorsChannel, async (m) => {
      if (ids.includes(m.messageId ?? '')) {
        parked.push(m);
        await m.ack();
      } else await m.nack({ requeue: true });
    }, { prefetch: 100 });
    try {
      const broken = '{image: "x", name: ';
      const r1 = await client.request('start_container.create', broken, { messageId: ids[0] });
      assert.equal((r1.error as { code: string }).code, 'bad_json');
      const r2 = await client.request('start_container.response_channel', { image: TEST_IMAGE, response_channel: 'x', volumes: { '/tmp': { bind: 'relative' } } }, { messageId: ids[1] });
      assert.equal((r2.error as { field: string }).field, 'volumes./tmp.bind');
      const r3 = await client.request('start_container.create', { image: TEST_IMAGE, privileged: true, labels }, { messageId: ids[2] });
      assert.deepEqual([(r3.error as { code: string }).code, (r3.error as { field: string }).field], ['policy_denied', 'privileged']);
      await eventually('all three parked', async () => parked.length === 3);
      const byId = new Map(parked.map((m) => [m.messageId, JSON.parse(m.body.toString()) as { body: string; error: { code: string }; channel: string }]));
      assert.equal(byId.get(ids[0])?.body, broken);
      assert.equal(byId.get(ids[0])?.channel, 'start_container.create');
      assert.equal(byId.get(ids[2])?.error.code, 'policy_denied');
      // and the agent is still serving
      const ok = await client.request('container_status', { name: `nope-${randomUUID()}` });
      assert.equal((ok.error as { code: string }).code, 'not_found');
    } finally {
      await sub.cancel();
      await agent.stop();
      await (client.transport as { deleteChannel?: (c: string) => Promise<void> }).deleteChannel?.(errorsChannel);
    }
  });
});
