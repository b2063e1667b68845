/**
 * A Docker daemon restart is survived: the agent runs against a private dockerd (own bridge,
 * data-root, socket; stopped by PID), which is restarted under it. The monitor armed before the
 * restart reports the container the restart stopped (the event stream resumes from the last
 * event seen), and runs work again afterwards.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { LABEL } from '../../../src/domain/labels.js';
import { TEST_IMAGE, eventually, newRunId } from '../../helpers/docker.js';
import { TestClient, startTestAgent } from '../../helpers/agent.js';
import { removeEngineDirs, startEngine, type ExtraEngine } from '../../helpers/engines.js';

const runId = newRunId();
const root = mkdtempSync('/tmp/bosun-agent-dr-');
let node: ExtraEngine;
let client: TestClient;

before(async () => {
  node = await startEngine(root, 'ar', 3);
  client = await TestClient.connect();
});
after(async () => {
  await client.close();
  await node.stop();
  removeEngineDirs(root);
});

it('survives a daemon restart: monitors resume, runs work again', async () => {
  const agent = await startTestAgent({ dockerHost: node.host });
  try {
    const name = `dr-${runId}`;
    await node.engine.containers.create({ image: TEST_IMAGE, name, cmd: ['sleep', '300'], labels: { [LABEL.test]: runId, [LABEL.managed]: 'true' }, stopTimeoutSec: 1 });
    await node.engine.containers.start(name);
    const channel = `mon-${runId}-dr`;
    const inbox = await client.collect(channel);
    const ack = await client.request('monitor_container_status', { name, response_channel: channel, interval: 300 });
    assert.equal(ack.ok, true);

    await node.stop();
    node = await startEngine(root, 'ar', 3);

    await eventually('notice for the container the restart stopped', async () => inbox.messages.length === 1, 60_000);
    assert.equal(inbox.json()[0]?.container, name);
    assert.equal(inbox.json()[0]?.running, false);
    await inbox.stop();

    const r = await client.request('start_container.response_channel', { image: TEST_IMAGE, command: 'echo after restart', response_channel: `out-${runId}-dr` }, { timeoutMs: 90_000 });
    assert.equal(r.stdout, 'after restart\n');
  } finally {
    await agent.stop();
  }
});
