/**
 * The broker goes away and comes back: the agent reconnects on its own, its durable
 * queues (and a message published to one while the agent was still reconnecting) survive,
 * and runs work again. A private RabbitMQ node is used, so the shared one is never stopped.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { LABEL } from '../../../src/domain/labels.js';
import type { AgentProcess } from '../../../src/app/agent-process.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine } from '../../helpers/docker.js';
import { TestClient, startTestAgent } from '../../helpers/agent.js';
import { PrivateRabbit } from '../../helpers/rabbit.js';

const engine = testEngine();
const runId = newRunId();
const labels = { [LABEL.test]: runId };

describe('broker restart', { skip: PrivateRabbit.available() ? false : 'needs Debian rabbitmq-server and root' }, () => {
  let rabbit: PrivateRabbit;
  let agent: AgentProcess | undefined;
  let client: TestClient | undefined;

  before(async () => {
    rabbit = await PrivateRabbit.create();
    await rabbit.start();
    agent = await startTestAgent({ broker: rabbit.url });
    client = await TestClient.connect(rabbit.url);
  });
  after(async () => {
    await client?.close().catch(() => undefined);
    await agent?.stop().catch(() => undefined);
    await rabbit.destroy();
    await removeTestContainers(engine, runId);
  });

  it('runs before, reconnects after a broker restart, and consumes what was queued meanwhile', async () => {
    const first = await client!.request('start_container.response_channel', { image: TEST_IMAGE, command: 'echo before', response_channel: `bosun.test.before.${runId}`, labels });
    assert.equal(first.stdout, 'before\n', JSON.stringify(first));

    await rabbit.stop();
    await eventually('the agent notices the broker is gone', async () => !agent!.transport.isConnected());
    await rabbit.start();

    // Published by a plain AMQP client as soon as the broker is back, into the durable queue,
    // whether or not the agent has reconnected yet.
    const raw = await amqp.connect(rabbit.url);
    const out = `bosun.test.restart.${runId}`;
    try {
      const ch = await raw.createConfirmChannel();
      await ch.assertQueue(out, { durable: true });
      ch.sendToQueue('start_container.response_channel', Buffer.from(JSON.stringify({ image: TEST_IMAGE, command: 'echo queued', response_channel: out, labels })), { persistent: true });
      await ch.waitForConfirms();
      let reply: Record<string, unknown> | undefined;
      await eventually('reply to the queued message', async () => {
        const m = await ch.get(out, { noAck: true });
        if (m) reply = JSON.parse(m.content.toString('utf8')) as Record<string, unknown>;
        return reply !== undefined;
      }, 60_000);
      assert.equal(reply!.stdout, 'queued\n', JSON.stringify(reply));
      await ch.close();
    } finally {
      await raw.close();
    }

    // the test client (same transport class) reconnected too; a request/reply round trip works
    const again = await client!.request('start_container.response_channel', { image: TEST_IMAGE, command: 'echo after', response_channel: `bosun.test.after.${runId}`, labels }, { timeoutMs: 60_000 });
    assert.equal(again.stdout, 'after\n', JSON.stringify(again));
  });
});
