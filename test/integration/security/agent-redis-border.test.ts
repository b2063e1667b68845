/**
 * Findings 8–10 and 14 over Redis: the same border (names, ids, reply channels, body size),
 * rejections parked once; and a policy naming publishers is refused at startup, since Redis
 * tells consumers nothing about who wrote an entry. Real Redis and Docker.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentProcess } from '../../../src/app/agent-process.js';
import { startAgentProcess } from '../../../src/app/agent-process.js';
import { isBosunError } from '../../../src/domain/errors.js';
import { silentLogger } from '../../../src/util/log.js';
import { REDIS_URL, TestClient, startTestAgent, tempDir } from '../../helpers/agent.js';
import { eventually } from '../../helpers/docker.js';

const errorsChannel = `bosun.errors.redis-${randomUUID().slice(0, 8)}`;
let agent: AgentProcess;
let client: TestClient;

describe('the message border over Redis', () => {
  before(async () => {
    agent = await startTestAgent({ broker: REDIS_URL, errorsChannel });
    client = await TestClient.connect(REDIS_URL);
  });
  after(async () => {
    await client.close();
    await agent.stop();
  });

  it('crash, poison and oversized shapes are answered with their code and field, each parked once', async () => {
    const cases: [string, unknown, string, string | undefined][] = [
      ['container_status', { name: 'x/..' }, 'invalid_message', 'name'],
      ['dispatch', { Dockercmd: 'run', Image: 'a/../../b' }, 'invalid_message', 'image'],
      ['container_status', { name: 'x', request_id: 'r'.repeat(300) }, 'invalid_message', 'request_id'],
      ['start_container.response_channel', { image: 'bosun-busybox', response_channel: 'q'.repeat(300) }, 'invalid_message', 'response_channel'],
      ['container_status', `{"name": "${'x'.repeat(1024 * 1024)}"}`, 'message_too_large', undefined],
    ];
    const parked = await client.collect(errorsChannel);
    for (const [channel, body, code, field] of cases) {
      const r = await client.request(channel, body, { timeoutMs: 20_000 });
      const error = r.error as { code: string; field?: string };
      assert.deepEqual([r.ok, error.code, error.field?.toLowerCase()], [false, code, field], JSON.stringify(r).slice(0, 300));
    }
    await eventually('parked', async () => parked.messages.length >= cases.length);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(parked.messages.length, cases.length);
    await parked.stop();
  });

  it('a policy naming publishers is refused at startup on Redis (no publisher identity there)', async () => {
    const dir = tempDir('redis-users');
    const policyFile = join(dir, 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ users: { ci: {} } }));
    await assert.rejects(
      startAgentProcess({ brokerUrl: REDIS_URL, concurrency: 1, log: silentLogger, stateDir: dir, policyFile }),
      (e: unknown) => isBosunError(e) && e.field === 'users' && /Redis/.test(e.message),
    );
  });
});
