/**
 * Finding 5: the lifecycle channels, dispatch stop/remove and a run naming an existing
 * container act only on containers bosun made (bosun.managed=true) — a container someone
 * else made on the host is refused on every channel and left as it was. A policy with
 * container_scope: any widens it again. Messages cannot forge bosun's labels.
 * Real agent, RabbitMQ and Docker.
 */
import { bosunTestDir, removeBosunTestDir } from '../../helpers/bosun-root.js';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LABEL } from '../../../src/domain/labels.js';
import type { AgentProcess } from '../../../src/app/agent-process.js';
import { TEST_IMAGE, newRunId, removeTestContainers, testEngine, uniqueName } from '../../helpers/docker.js';
import { TestClient, startTestAgent, tempDir } from '../../helpers/agent.js';

const engine = testEngine();
const runId = newRunId();
const labels = { [LABEL.test]: runId };
const SECRET = `secret-${runId}`;
let client: TestClient;

/** A running container made with the engine directly, as a host user would: no bosun label. */
async function foreignContainer(prefix: string): Promise<{ name: string; id: string }> {
  const name = uniqueName(`${prefix}-${runId}`);
  const { id } = await engine.containers.create({ image: TEST_IMAGE, name, cmd: ['sh', '-c', `echo ${SECRET}; exec sleep 300`], labels, stopTimeoutSec: 0 });
  await engine.containers.start(id);
  return { name, id };
}

type Reply = Record<string, unknown> & { error?: { code: string; field?: string; message: string } };

function assertRefused(r: Reply, field: string, what: string): void {
  assert.equal(r.ok, false, `${what}: ${JSON.stringify(r)}`);
  assert.equal(r.error?.code, 'policy_denied', `${what}: ${JSON.stringify(r)}`);
  assert.equal(r.error?.field, field, what);
  assert.match(r.error?.message ?? '', /not made by bosun/, what);
  assert.ok(!JSON.stringify(r).includes(SECRET), `${what} leaked the foreign container's output`);
}

async function assertUntouched(c: { name: string; id: string }, startedAt: string | undefined): Promise<void> {
  const d = await engine.containers.inspect(c.id);
  assert.ok(d, `${c.name} was removed`);
  assert.equal(d.state.running, true, `${c.name} was stopped`);
  assert.equal(d.state.startedAt, startedAt, `${c.name} was restarted`);
}

describe('default scope: only bosun’s containers', () => {
  let agent: AgentProcess;
  before(async () => {
    agent = await startTestAgent();
    client = await TestClient.connect();
  });
  after(async () => {
    await agent.stop();
    await removeTestContainers(engine, runId);
  });

  it('every lifecycle channel and dispatch refuses a foreign container and leaves it running', async () => {
    const c = await foreignContainer('foreign');
    const startedAt = (await engine.containers.inspect(c.id))?.state.startedAt;
    const asks: [string, Record<string, unknown>, string][] = [
      ['container_status', { name: c.name }, 'name'],
      ['stop_container', { name: c.name, timeout: 0 }, 'name'],
      ['restart_container', { name: c.name, timeout: 0 }, 'name'],
      ['remove_container', { name: c.name, force: true }, 'name'],
      ['close_container', { name: c.name, timeout: 0 }, 'name'],
      ['start_containers_not_running', { name: c.name }, 'name'],
      ['monitor_container_status', { name: c.name, response_channel: `mon-${runId}`, interval: 60 }, 'name'],
      ['dispatch', { Dockercmd: 'stop', Container: c.name, Options: { Time: 0 } }, 'container'],
      ['dispatch', { Dockercmd: 'remove', Container: c.name, Options: { Force: true } }, 'container'],
    ];
    for (const [channel, body, field] of asks) {
      assertRefused((await client.request(channel, body)) as Reply, field, `${channel} ${JSON.stringify(body)}`);
    }
    await assertUntouched(c, startedAt);
  });

  it('start_containers_not_running by prefix skips foreign containers', async () => {
    const c = await foreignContainer('fprefix');
    await engine.containers.stop(c.id, { timeoutSec: 0 });
    const r = (await client.request('start_containers_not_running', { name: c.name.slice(0, -2), exact_value: false })) as Reply;
    assert.equal(r.error?.code, 'not_found', JSON.stringify(r));
    assert.match(r.error?.message ?? '', /made by bosun/);
    assert.equal((await engine.containers.inspect(c.id))?.state.running, false);
  });

  it('a run naming a foreign container neither reads its logs nor starts it', async () => {
    const c = await foreignContainer('frun');
    const startedAt = (await engine.containers.inspect(c.id))?.state.startedAt;
    const attached = (await client.request('start_container.response_channel', { image: TEST_IMAGE, name: c.name, response_channel: `out-${runId}-a`, labels })) as Reply;
    assertRefused(attached, 'name', 'start_container.response_channel');
    const dispatchRun = (await client.request('dispatch', { Dockercmd: 'run', Image: TEST_IMAGE, Options: { Name: c.name, Attach: ['STDOUT'] } })) as Reply;
    assertRefused(dispatchRun, 'name', 'dispatch run attached');
    await engine.containers.stop(c.id, { timeoutSec: 0 });
    const detached = (await client.request('start_container.create', { image: TEST_IMAGE, name: c.name, labels })) as Reply;
    assertRefused(detached, 'name', 'start_container.create');
    const dispatchDetached = (await client.request('dispatch', { Dockercmd: 'run', Image: TEST_IMAGE, Options: { Name: c.name } })) as Reply;
    assertRefused(dispatchDetached, 'name', 'dispatch run detached');
    assert.equal((await engine.containers.inspect(c.id))?.state.running, false, 'the foreign container was started');
    void startedAt;
  });

  it('a message cannot set bosun.* labels (which would make a foreign-looking container bosun’s or forge a request)', async () => {
    for (const forged of [{ [LABEL.managed]: 'true' }, { [LABEL.request]: 'someone-elses-request' }, { 'Bosun.Stack': 'x' }]) {
      const r = (await client.request('start_container.create', { image: TEST_IMAGE, command: 'sleep 30', labels: { ...labels, ...forged } })) as Reply;
      assert.equal(r.error?.code, 'invalid_message', JSON.stringify(r));
      assert.equal(r.error?.field, `labels.${Object.keys(forged)[0]}`);
    }
    assert.equal((await engine.containers.list({ all: true, labels })).filter((x) => x.labels[LABEL.managed] === 'true').length, 0, 'a container was made');
  });

  it('a build does not take the tag of an image bosun did not make', async () => {
    const tag = `bosun-test-foreign:${runId}`;
    const dir = bosunTestDir('fbuild');
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${TEST_IMAGE}\nLABEL ${LABEL.test}=${runId}\nRUN echo foreign > /who\n`);
    const foreign = await engine.images.build({ contextDir: dir, tag });
    try {
      writeFileSync(join(dir, 'Dockerfile'), `FROM ${TEST_IMAGE}\nRUN echo attacker > /who\n`);
      const r = (await client.request('start_container.create', { image: tag, build: true, context: dir, command: 'sleep 30', labels })) as Reply;
      assert.equal(r.error?.code, 'policy_denied', JSON.stringify(r));
      assert.equal(r.error?.field, 'image');
      assert.equal((await engine.images.inspect(tag))?.id, foreign.imageId, 'the tag moved to another image');
    } finally {
      await engine.images.remove(tag, { force: true });
      removeBosunTestDir(dir);
    }
  });

  it('bosun’s own containers still work on every channel (and images it built can be rebuilt)', async () => {
    const name = uniqueName(`own-${runId}`);
    const made = (await client.request('start_container.create', { image: TEST_IMAGE, name, command: 'sleep 60', labels })) as Reply;
    assert.equal(made.ok, true, JSON.stringify(made));
    assert.equal(((await client.request('container_status', { name })) as Reply).ok, true);
    assert.equal(((await client.request('stop_container', { name, timeout: 0 })) as Reply).ok, true);
    assert.equal(((await client.request('dispatch', { Dockercmd: 'remove', Container: name })) as Reply).ok, true);
    assert.equal(await engine.containers.inspect(name), undefined);
    const tag = `bosun-test-own:${runId}`;
    const dir = bosunTestDir('obuild');
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${TEST_IMAGE}\nCMD ["true"]\n`);
    try {
      for (let i = 0; i < 2; i++) {
        const r = (await client.request('start_container.response_channel', { image: tag, build: true, context: dir, response_channel: `out-${runId}-b`, labels })) as Reply;
        assert.equal(r.ok, true, `build ${i + 1}: ${JSON.stringify(r)}`);
      }
      assert.equal((await engine.images.inspect(tag))?.labels[LABEL.managed], 'true');
    } finally {
      await engine.images.remove(tag, { force: true });
      removeBosunTestDir(dir);
    }
  });
});

describe('container_scope: any (policy file) widens the channels to every container', () => {
  let agent: AgentProcess;
  before(async () => {
    const dir = tempDir('scope');
    writeFileSync(join(dir, 'policy.yaml'), 'container_scope: any\n');
    agent = await startTestAgent({ policyFile: join(dir, 'policy.yaml') });
  });
  after(async () => {
    await agent.stop();
    await client.close();
    await removeTestContainers(engine, runId);
  });

  it('status, a run by name (with its logs), stop and remove act on a foreign container', async () => {
    const c = await foreignContainer('fany');
    const status = (await client.request('container_status', { name: c.name })) as Reply;
    assert.equal(status.ok, true, JSON.stringify(status));
    const run = (await client.request('dispatch', { Dockercmd: 'run', Image: TEST_IMAGE, Timeout: 2, Options: { Name: c.name, Attach: ['STDOUT'] } })) as Reply;
    assert.match(String(run.stdout), new RegExp(SECRET));
    const stop = (await client.request('dispatch', { Dockercmd: 'stop', Container: c.name, Options: { Time: 0 } })) as Reply;
    assert.deepEqual(stop.result, { stopped: true });
    const rm = (await client.request('remove_container', { name: c.name })) as Reply;
    assert.deepEqual(rm.result, { removed: true });
    assert.equal(await engine.containers.inspect(c.id), undefined);
  });
});
