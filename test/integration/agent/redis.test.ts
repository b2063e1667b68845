/** The same agent over the Redis transport (streams): a run with its reply, and an error reply. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LABEL } from '../../../src/domain/labels.js';
import type { AgentProcess } from '../../../src/app/agent-process.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine } from '../../helpers/docker.js';
import { REDIS_URL, TestClient, startTestAgent } from '../../helpers/agent.js';

const engine = testEngine();
const runId = newRunId();
const labels = { [LABEL.test]: runId };
let agent: AgentProcess;
let client: TestClient;

describe('agent over Redis streams', () => {
  before(async () => {
    agent = await startTestAgent({ broker: REDIS_URL });
    client = await TestClient.connect(REDIS_URL);
  });
  after(async () => {
    await client.close();
    await agent.stop();
    await removeTestContainers(engine, runId);
  });

  it('runs a function and publishes its output to response_channel', async () => {
    const channel = `bosun-test-${runId}-out`;
    const inbox = await client.collect(channel);
    await client.send('start_container.response_channel', "{image: '" + TEST_IMAGE + "', command: 'echo over redis', response_channel: '" + channel + "', labels: {'bosun.test': '" + runId + "'}}");
    await eventually('reply', async () => inbox.messages.length > 0);
    await inbox.stop();
    const [reply] = inbox.json();
    assert.equal(reply?.ok, true);
    assert.equal(reply?.stdout, 'over redis\n');
  });

  it('replies a clear error to reply_to for a bad message', async () => {
    const r = await client.request('stop_container', { name: 'x', timeout: 'soon', labels });
    assert.equal(r.ok, false);
    assert.equal((r.error as { code: string }).code, 'invalid_message');
    assert.match(String((r.error as { message: string }).message), /timeout/);
  });
});
