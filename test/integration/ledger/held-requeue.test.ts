/**
 * Review #1, F-L4: a delivery held by another agent's live lease is slept on (up to 2 s) and
 * nacked back to the head of the queue, uncounted, for as long as the lease lives (renewed for
 * the whole run). On an agent with concurrency 1 that one delivery takes the only slot again and
 * again: a free request published after it is not served while the lease lives.
 * Real RabbitMQ (own vhost) + real Agent + PGlite ledger; the engine is a fake (Docker's /info
 * hung on this machine during the review) — the action is a probe that starts no container.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { defineAction } from '../../../src/actions/define.js';
import { registryOf } from '../../../src/actions/registry.js';
import { openRunLedger, type SqlRunLedger } from '../../../src/adapters/store-sql/run-ledger.js';
import { createTransport } from '../../../src/adapters/transport-factory.js';
import { Agent } from '../../../src/agent/agent.js';
import { DEFAULT_POLICY } from '../../../src/domain/policy.js';
import { systemClock } from '../../../src/ports/clock.js';
import type { Transport } from '../../../src/ports/transport.js';
import { silentLogger, type Logger } from '../../../src/util/log.js';
import { fakeEngine } from '../../helpers/fake-engine.js';
import { AMQP_URL, TestClient } from '../../helpers/agent.js';
import { eventually, newRunId } from '../../helpers/docker.js';

const runId = newRunId();
const CHANNEL = `review1.probe.${runId}`;

describe('review-1: a held delivery vs other work on one agent', () => {
  let client: TestClient;
  let ledger: SqlRunLedger;
  let transport: Transport;
  let agent: Agent;
  const lines: Record<string, unknown>[] = [];

  before(async () => {
    ledger = await openRunLedger('memory:');
    client = await TestClient.connect();
    transport = await createTransport(AMQP_URL, silentLogger);
    await transport.connect();
    const capture = (level: string) => (obj: unknown, msg?: string) => void lines.push({ level, msg, ...(typeof obj === 'object' && obj ? obj : {}) });
    const log = (): Logger => ({ ...silentLogger, info: capture('info'), warn: capture('warn'), error: capture('error'), child: () => log() }) as unknown as Logger;
    const schema = z.strictObject({ request_id: z.string(), response_channel: z.string() });
    const registry = registryOf([defineAction({
      channel: CHANNEL, description: 'probe', schema, runKindOf: () => 'attached', replyChannelOf: (i) => i.response_channel,
      handle: async () => ({ reply: { result: { ran: true } } }),
    })]);
    agent = new Agent({ transport, engine: fakeEngine(), registry, policy: DEFAULT_POLICY, clock: systemClock, log: log(), concurrency: 1, ledger: { ledger, owner: 'b', leaseMs: 30_000 } });
    await agent.start();
  });
  after(async () => {
    await agent.stop();
    await transport.close();
    await client.close();
    await ledger.close();
  });

  it('a free request published behind a held one is served while the lease lives', async () => {
    const held = `held-${runId}`;
    const free = `free-${runId}`;
    // Another agent ("a") holds `held` with a live lease, as during a long run it keeps renewing.
    for (const publisher of ['guest', '']) await ledger.claim({ channel: CHANNEL, publisher, requestId: held }, 'a', 120_000);
    const replyChannel = `review1-out-${runId}`;
    const inbox = await client.collect(replyChannel);
    await client.send(CHANNEL, { request_id: held, response_channel: replyChannel });
    const heldLines = () => lines.filter((l) => l.requestId === held && String(l.msg).startsWith('run held')).length;
    await eventually('agent b handled the held delivery (handed it back)', async () => heldLines() > 0, 30_000);
    await client.send(CHANNEL, { request_id: free, response_channel: replyChannel });
    try {
      await eventually('the free request is answered', async () => inbox.json().some((r) => r.request_id === free), 30_000);
    } finally {
      console.log(`# hand-backs of the held delivery meanwhile: ${heldLines()}; replies: ${JSON.stringify(inbox.json().map((r) => r.request_id))}`);
      await inbox.stop();
    }
    assert.ok(inbox.json().some((r) => r.request_id === free));
  });
});
