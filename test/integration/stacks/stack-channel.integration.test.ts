/**
 * The `stack` channel end to end through a real agent and broker: up/plan/run_script/down
 * on an inline stack and a stack file, a line-accurate error for a bad stack, and policy
 * refusals (privileged service, image not allowed, stack file outside build_roots).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentProcess } from '../../../src/app/agent-process.js';
import { LABEL } from '../../../src/domain/labels.js';
import { TEST_IMAGE, newRunId, testEngine } from '../../helpers/docker.js';
import { TestClient, startTestAgent, tempDir } from '../../helpers/agent.js';
import { StackFixture } from './helpers.js';

const engine = testEngine();
const runId = newRunId();
const fx = new StackFixture(engine, runId);
const NAME = `${runId}c`;
const FILE_NAME = `${runId}f`;
fx.names.add(NAME);
fx.names.add(FILE_NAME);

const inline = `services:
  db:
    image: ${TEST_IMAGE}
    command: sleep 3600
    stop_signal: SIGKILL
    labels: {${LABEL.test}: ${runId}}
  app:
    image: ${TEST_IMAGE}
    command: sleep 3600
    stop_signal: SIGKILL
    environment: {ROLE: app}
    labels: {${LABEL.test}: ${runId}}
    depends_on: [db]
`;

type Reply = { ok: boolean; result?: { ok: boolean; changed: number; containers: { service: string; status: string; done: string[]; id?: string }[] }; error?: { code: string; message: string; field?: string } } & Record<string, unknown>;

describe('stack channel through a real agent', () => {
  let agent: AgentProcess;
  let client: TestClient;
  const req = async (body: unknown) => (await client.request('stack', body, { timeoutMs: 90_000 })) as Reply;

  before(async () => {
    const policyFile = join(tempDir('policy'), 'policy.yml');
    writeFileSync(policyFile, `images: {allow: ["bosun-busybox*"]}\nbuild_roots: [${JSON.stringify(fx.dir)}]\n`);
    agent = await startTestAgent({ policyFile });
    client = await TestClient.connect();
  });
  after(async () => {
    await client?.close();
    await agent?.stop();
    await fx.cleanup();
  });

  it('up on an inline stack: per-container results, containers running', async () => {
    const r = await req({ action: 'up', name: NAME, stack: { inline } });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.result!.changed, 2);
    for (const c of r.result!.containers) assert.deepEqual([c.status, c.done], ['done', ['create', 'start']], c.service);
    const app = await engine.containers.inspect(`${NAME}-app`);
    assert.equal(app?.state.running, true);
    assert.equal(app?.labels[LABEL.stack], NAME);
    assert.ok(app?.env.includes('ROLE=app'));
  });

  it('plan on the up-to-date stack reports no change; inline as an object works too', async () => {
    const r = await req({ action: 'plan', name: NAME, stack: { inline } });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.result!.changed, 0);
    const asObject = {
      services: {
        db: { image: TEST_IMAGE, command: 'sleep 3600', stop_signal: 'SIGKILL', labels: { [LABEL.test]: runId } },
        app: { image: TEST_IMAGE, command: 'sleep 3600', stop_signal: 'SIGKILL', environment: { ROLE: 'app' }, labels: { [LABEL.test]: runId }, depends_on: ['db'] },
      },
    };
    const o = await req({ action: 'plan', name: NAME, stack: { inline: asObject } });
    assert.equal(o.result!.changed, 0, JSON.stringify(o.result));
  });

  it('run_script replies with exit_code, stdout and {id, exit_code, log}', async () => {
    const r = await req({ action: 'run_script', name: NAME, stack: { inline }, script: { service: 'app', command_format: 'sh -c "echo $ROLE ran; exit 4"', remove_existing_before: true } });
    assert.equal(r.ok, false);
    assert.equal(r.exit_code, 4);
    assert.equal(r.stdout, 'app ran\n');
    assert.equal(r.error?.code, 'nonzero_exit');
    const result = r.result as unknown as { id: string; exit_code: number; log: string };
    assert.deepEqual({ exit_code: result.exit_code, log: result.log }, { exit_code: 4, log: 'app ran\n' });
    assert.match(result.id, /^[0-9a-f]{64}$/);
  });

  it('down removes the stack', async () => {
    const r = await req({ action: 'down', name: NAME, stack: { inline } });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal((await engine.containers.list({ all: true, labels: { [LABEL.stack]: NAME } })).length, 0);
  });

  it('a stack file below build_roots works by path', async () => {
    const path = fx.write('compose.yml', `name: ${FILE_NAME}\n${inline}`);
    const up = await req({ action: 'up', stack: { path } });
    assert.equal(up.ok, true, JSON.stringify(up));
    assert.equal((await engine.containers.inspect(`${FILE_NAME}-db`))?.state.running, true);
    const down = await req({ action: 'down', stack: { path } });
    assert.equal(down.ok, true, JSON.stringify(down));
  });

  it('a bad stack: invalid_message with the line of each problem', async () => {
    const unknownKey = await req({ action: 'up', name: `${runId}x`, stack: { inline: `services:\n  app:\n    image: ${TEST_IMAGE}\n    command: sleep 1\n    bogus_key: 1\n` } });
    assert.equal(unknownKey.ok, false);
    assert.equal(unknownKey.error?.code, 'invalid_message', JSON.stringify(unknownKey.error));
    assert.match(unknownKey.error!.message, /stack\.inline:5:5: services\.app\.bogus_key: unknown key "bogus_key"/);
    const ghost = await req({ action: 'up', name: `${runId}x`, stack: { inline: `services:\n  app:\n    image: ${TEST_IMAGE}\n    command: sleep 1\n    depends_on: [ghost]\n` } });
    assert.equal(ghost.error?.code, 'invalid_message', JSON.stringify(ghost.error));
    assert.match(ghost.error!.message, /stack\.inline:5:\d+: services\.app\.depends_on.*ghost/);
    const yamlBroken = await req({ action: 'up', name: `${runId}x`, stack: { inline: 'services:\n  app:\n    image: [unclosed\n' } });
    assert.equal(yamlBroken.error?.code, 'invalid_message');
    assert.match(yamlBroken.error!.message, /stack\.inline:\d+:\d+: /);
    assert.equal((await engine.containers.list({ all: true, labels: { [LABEL.stack]: `${runId}x` } })).length, 0);
  });

  it('policy refusals: privileged service, image not allowed, stack file outside build_roots', async () => {
    const priv = await req({ action: 'up', name: `${runId}p`, stack: { inline: `services:\n  app:\n    image: ${TEST_IMAGE}\n    privileged: true\n` } });
    assert.equal(priv.ok, false);
    assert.equal(priv.error?.code, 'policy_denied', JSON.stringify(priv.error));
    assert.equal(priv.error?.field, 'stack.services.app.privileged');
    const img = await req({ action: 'up', name: `${runId}p`, stack: { inline: 'services:\n  app:\n    image: alpine:3\n' } });
    assert.equal(img.error?.code, 'policy_denied');
    assert.equal(img.error?.field, 'stack.services.app.image');
    const outside = await req({ action: 'plan', stack: { path: '/etc/passwd' } });
    assert.equal(outside.error?.code, 'policy_denied', JSON.stringify(outside.error));
    assert.equal(outside.error?.field, 'stack.path');
    const other = await req({ action: 'plan', stack: { path: join(tempDir('elsewhere'), 'compose.yml') } });
    assert.equal(other.error?.code, 'policy_denied');
    assert.match(other.error!.message, /outside the allowed roots/);
    assert.equal((await engine.containers.list({ all: true, labels: { [LABEL.stack]: `${runId}p` } })).length, 0);
  });
});
