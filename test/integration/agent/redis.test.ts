/** The same agent over the Redis transport (streams): a run with its reply, and an error reply. */
import { after, before, describe, it } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import assert from 'node:assert/strict';
import { LABEL } from '../../../src/domain/labels.js';
import type { AgentProcess } from '../../../src/app/agent-process.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine } from '../../helpers/docker.js';
import { REDIS_URL, TestClient, startTestAgent, stopChild } from '../../helpers/agent.js';

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

describe('agent over Redis: the server restarts (empty, as Redis without persistence does)', () => {
  let server: ChildProcess | undefined;
  let port = 0;
  let restartAgent: AgentProcess | undefined;
  let restartClient: TestClient | undefined;
  const startRedis = async () => {
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await eventually('private redis up', async () => {
      const c = connect(port, '127.0.0.1');
      return new Promise<boolean>((resolve) => {
        c.once('connect', () => (c.destroy(), resolve(true)));
        c.once('error', () => resolve(false));
      });
    });
  };
  const stopRedis = async () => {
    const s = server;
    if (!s) return;
    await stopChild(s);
  };

  before(async () => {
    port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    await startRedis();
    restartAgent = await startTestAgent({ broker: `redis://127.0.0.1:${port}` });
    restartClient = await TestClient.connect(`redis://127.0.0.1:${port}`);
  });
  after(async () => {
    await restartClient?.close().catch(() => undefined);
    await restartAgent?.stop().catch(() => undefined);
    await stopRedis();
  });

  it('re-creates its consumer groups and serves again', async () => {
    const ask = (cmd: string) => restartClient!.request('start_container.response_channel', { image: TEST_IMAGE, command: cmd, response_channel: `bosun-test-${runId}-r`, labels }, { timeoutMs: 60_000 });
    assert.equal((await ask('echo before')).stdout, 'before\n');
    await stopRedis();
    await eventually('the agent notices Redis is gone', async () => !restartAgent!.transport.isConnected());
    await startRedis();
    const r = await ask('echo after');
    assert.equal(r.stdout, 'after\n', JSON.stringify(r));
  });
});
