/**
 * bosun:publish under the agent's policy, through a real agent and broker: a channel the
 * policy's workflow_publish allows gets the message and the execution succeeds; a denied one
 * and bosun's own control channel fail the execution with bosun.PolicyDenied naming the channel,
 * and nothing reaches the denied channel.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAgentProcess, type AgentProcess } from '../../../src/app/agent-process.js';
import { silentLogger } from '../../../src/util/log.js';
import { AMQP_URL, TestClient, tempDir } from '../../helpers/agent.js';
import { eventually, newRunId } from '../../helpers/docker.js';

const runId = newRunId();
type Json = Record<string, unknown>;

const publishTo = (channel: string) => ({
  StartAt: 'P',
  States: { P: { Type: 'Task', Resource: 'bosun:publish', Parameters: { channel, message: { hello: runId } }, End: true } },
});

describe('bosun:publish channel policy (agent)', () => {
  let agent: AgentProcess;
  let client: TestClient;
  const stateDir = tempDir('wf-pubpol');
  const ok = `wfpub-${runId}-ok`;
  const no = `wfpub-${runId}-no`;

  before(async () => {
    const policyFile = join(stateDir, 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ workflow_publish: { allow: [`wfpub-${runId}-*`, 'workflow.*'], deny: [no] } }));
    agent = await startAgentProcess({ brokerUrl: AMQP_URL, concurrency: 2, log: silentLogger, stateDir: join(stateDir, 'state'), policyFile, errorsChannel: `bosun.errors.wfpub-${runId}` });
    client = await TestClient.connect();
  });
  after(async () => {
    await agent.stop();
    const t = client.transport as { deleteChannel?: (c: string) => Promise<void> };
    for (const c of [ok, no]) await t.deleteChannel?.(c);
    await client.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  const run = async (channel: string): Promise<Json> => {
    const started = (await client.request('workflow.start', { definition: publishTo(channel), input: {} })).result as Json;
    const id = started.execution_id as string;
    let status: Json = {};
    await eventually(`execution publishing to ${channel} ended`, async () => {
      status = (await client.request('workflow.status', { execution_id: id })).result as Json;
      return status.status !== 'RUNNING';
    }, 60_000);
    return status;
  };

  it('an allowed channel gets the message; a denied one and a control channel fail with bosun.PolicyDenied', async () => {
    const okInbox = await client.collect(ok);
    const noInbox = await client.collect(no);
    const good = await run(ok);
    assert.equal(good.status, 'SUCCEEDED', JSON.stringify(good));
    await eventually('message on the allowed channel', async () => okInbox.messages.length === 1, 30_000);
    assert.deepEqual(okInbox.json()[0], { hello: runId });

    const denied = await run(no);
    assert.equal(denied.status, 'FAILED', JSON.stringify(denied));
    assert.equal(denied.error, 'bosun.PolicyDenied');
    assert.match(String(denied.cause), new RegExp(`"${no}".*workflow_publish\\.deny`));

    const control = await run('workflow.cancel');
    assert.equal(control.status, 'FAILED', JSON.stringify(control));
    assert.equal(control.error, 'bosun.PolicyDenied');
    assert.match(String(control.cause), /"workflow\.cancel".*bosun's own control channels/);
    // both refusals were handled (the executions ended) before this: nothing reached the denied channel
    assert.equal(noInbox.messages.length, 0);
    await okInbox.stop();
    await noInbox.stop();
  });
});
