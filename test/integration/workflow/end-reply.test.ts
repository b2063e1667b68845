/**
 * The end reply of workflow.start when the agent that ended the execution could not send it
 * (killed between its commit and the publish): the next agent on the store sends it, once;
 * two agents sweeping one PostgreSQL store send each owed reply once between them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startAgentProcess, type AgentProcess } from '../../../src/app/agent-process.js';
import type { SqlWorkflowStore } from '../../../src/adapters/store-sql/workflow-store.js';
import { openWorkflowStore } from '../../../src/adapters/store-sql/workflow-store.js';
import type { Definition } from '../../../src/workflow/definition.js';
import { endReplyPathsJson } from '../../../src/workflow/durable/end-reply.js';
import { DurableExecutor } from '../../../src/workflow/durable/executor.js';
import { startExecution } from '../../../src/workflow/durable/start.js';
import { waitForEnd } from '../../helpers/workflow.js';
import { silentLogger } from '../../../src/util/log.js';
import { AMQP_URL, TestClient, queuesSettled, tempDir } from '../../helpers/agent.js';
import { eventually, newRunId } from '../../helpers/docker.js';
import { storeLocation } from './stores.js';

const runId = newRunId();
const passChain = { StartAt: 'A', States: { A: { Type: 'Pass', Result: { done: true }, Next: 'B' }, B: { Type: 'Pass', End: true } } } as unknown as Definition;

/** Ends executions the way an agent killed right after its end commit leaves them: ended, reply owed, never sent. */
async function endedWithoutReply(store: SqlWorkflowStore, ids: string[], responseChannel: string): Promise<void> {
  const ex = new DurableExecutor({ store, owner: `dead-agent-${runId}`, runners: {}, pollMs: 50 });
  ex.start();
  try {
    for (const id of ids) {
      await startExecution(store, { definition: passChain, input: { id }, executionName: id, replyTo: endReplyPathsJson({ request_id: `req-${id}`, response_channel: responseChannel }) });
    }
    ex.kick();
    for (const id of ids) assert.equal((await waitForEnd(store, id)).status, 'SUCCEEDED');
  } finally {
    await ex.stop();
  }
  for (const id of ids) assert.equal((await store.getExecution(id))?.endReplySent, false);
}

describe('workflow end replies owed after a crash', () => {
  let url: string;
  let drop: () => Promise<void>;
  let store: SqlWorkflowStore;
  let client: TestClient;
  const dirs: string[] = [];
  const agents: AgentProcess[] = [];

  const agent = async (name: string): Promise<AgentProcess> => {
    const stateDir = tempDir('wf-end');
    dirs.push(stateDir);
    const a = await startAgentProcess({ brokerUrl: AMQP_URL, concurrency: 2, log: silentLogger, stateDir, storeUrl: url, name });
    agents.push(a);
    return a;
  };

  before(async () => {
    ({ url, drop } = await storeLocation('postgres'));
    store = await openWorkflowStore(url);
    client = await TestClient.connect();
  });
  after(async () => {
    for (const a of agents) await a.stop();
    await client.close();
    await store.close();
    await drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('an execution that ended without its reply gets it from the next agent on the store, once', async () => {
    const channel = `wf-end-${runId}-1`;
    const id = `owed-${runId}`;
    await endedWithoutReply(store, [id], channel);
    const inbox = await client.collect(channel);
    const a1 = await agent(`a1-${runId}`);
    await eventually('reply sent and marked', async () => (await store.getExecution(id))?.endReplySent === true, 30_000);
    await eventually('queue settled', async () => queuesSettled([channel]));
    assert.equal(inbox.messages.length, 1);
    const rec = await store.getExecution(id);
    assert.equal(inbox.messages[0]?.messageId, `${id}:end:${rec?.fence}`);
    const env = inbox.json()[0]!;
    assert.equal(env.request_id, `req-${id}`);
    assert.deepEqual(env.result, { execution_id: id, status: 'SUCCEEDED', output: { done: true } });
    await inbox.stop();
    // Its sweep would otherwise send the next test's replies before that test has set them up.
    await a1.stop();
    agents.splice(agents.indexOf(a1), 1);
    await (client.transport as { deleteChannel?: (c: string) => Promise<void> }).deleteChannel?.(channel);
  });

  it('two agents sweeping one store send each owed reply once between them', async () => {
    const channel = `wf-end-${runId}-2`;
    const ids = Array.from({ length: 12 }, (_, i) => `owed-${runId}-${i}`);
    await endedWithoutReply(store, ids, channel);
    const inbox = await client.collect(channel);
    await Promise.all([agent(`b1-${runId}`), agent(`b2-${runId}`)]);
    await eventually('all marked sent', async () => (await Promise.all(ids.map((id) => store.getExecution(id)))).every((r) => r?.endReplySent === true), 60_000);
    await eventually('queue settled', async () => queuesSettled([channel]));
    const got = inbox.json().map((e) => (e.result as { execution_id: string }).execution_id).sort();
    assert.deepEqual(got, [...ids].sort());
    await inbox.stop();
    await (client.transport as { deleteChannel?: (c: string) => Promise<void> }).deleteChannel?.(channel);
  });
});
