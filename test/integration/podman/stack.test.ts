/**
 * A stack `up` / `update` / `down` on Podman through a real agent and broker: the agent is
 * given Podman's socket only. `update` changes the environment (a recreate); a change of
 * limits alone would be an in-place update, which Podman 4.3 cannot do (see podman.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentProcess } from '../../../src/app/agent-process.js';
import { LABEL } from '../../../src/domain/labels.js';
import type { ContainerEngine } from '../../../src/ports/engine.js';
import { TEST_IMAGE, newRunId } from '../../helpers/docker.js';
import { TestClient, startTestAgent } from '../../helpers/agent.js';
import { PODMAN_HOST, podmanEngine } from '../../helpers/engines.js';

const runId = newRunId();
const NAME = `${runId}p`;
const stack = (role: string) => `services:
  db:
    image: ${TEST_IMAGE}
    command: sleep 3600
    stop_signal: SIGKILL
    labels: {${LABEL.test}: ${runId}}
  app:
    image: ${TEST_IMAGE}
    command: sleep 3600
    stop_signal: SIGKILL
    environment: {ROLE: ${role}}
    labels: {${LABEL.test}: ${runId}}
    depends_on: [db]
`;
type Reply = { ok: boolean; result?: { changed: number; containers: { service: string; status: string; done: string[] }[] } } & Record<string, unknown>;

describe('a stack on Podman through a real agent', () => {
  let engine: ContainerEngine;
  let agent: AgentProcess;
  let client: TestClient;
  const req = async (body: unknown) => (await client.request('stack', body, { timeoutMs: 90_000 })) as Reply;

  before(async () => {
    engine = await podmanEngine();
    agent = await startTestAgent({ dockerHost: PODMAN_HOST });
    client = await TestClient.connect();
  });
  after(async () => {
    await client?.close();
    await agent?.stop();
    for (const c of await engine.containers.list({ all: true, labels: { [LABEL.test]: runId } })) await engine.containers.remove(c.id, { force: true });
  });

  it('up creates and starts both services; a second up changes nothing', async () => {
    const r = await req({ action: 'up', name: NAME, stack: { inline: stack('one') } });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.result!.changed, 2);
    const app = await engine.containers.inspect(`${NAME}-app`);
    assert.equal(app?.state.running, true);
    assert.equal(app?.labels[LABEL.stack], NAME);
    assert.equal(app?.image, TEST_IMAGE);
    const again = await req({ action: 'up', name: NAME, stack: { inline: stack('one') } });
    assert.equal(again.result!.changed, 0, JSON.stringify(again.result));
  });

  it('update recreates only the changed service', async () => {
    const before = await engine.containers.inspect(`${NAME}-app`);
    const db = await engine.containers.inspect(`${NAME}-db`);
    const r = await req({ action: 'update', name: NAME, stack: { inline: stack('two') } });
    assert.equal(r.ok, true, JSON.stringify(r));
    const app = await engine.containers.inspect(`${NAME}-app`);
    assert.notEqual(app?.id, before?.id);
    assert.ok(app?.env.includes('ROLE=two'));
    assert.equal(app?.state.running, true);
    assert.equal((await engine.containers.inspect(`${NAME}-db`))?.id, db?.id);
  });

  it('down removes the stack', async () => {
    const r = await req({ action: 'down', name: NAME, stack: { inline: stack('two') } });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal((await engine.containers.list({ all: true, labels: { [LABEL.stack]: NAME } })).length, 0);
  });
});
