/**
 * Every channel of seeds 000 and 003, end to end: real RabbitMQ, real Docker, real agent.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LABEL } from '../../../src/domain/labels.js';
import type { AgentProcess } from '../../../src/app/agent-process.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine, uniqueName } from '../../helpers/docker.js';
import { TestClient, startTestAgent } from '../../helpers/agent.js';
import { bosunTestDir, removeBosunTestDir } from '../../helpers/bosun-root.js';

const engine = testEngine();
const runId = newRunId();
const labels = { [LABEL.test]: runId };
/** Containers the test makes with the engine directly and then acts on by channel: they must look like bosun's own. */
const bosunMade = { ...labels, [LABEL.managed]: 'true' };
let agent: AgentProcess;
let client: TestClient;

async function removeByNamePrefix(prefix: string) {
  for (const c of await engine.containers.list({ all: true, name: prefix })) await engine.containers.remove(c.id, { force: true });
}

describe('agent channels over AMQP', () => {
  before(async () => {
    agent = await startTestAgent();
    client = await TestClient.connect();
  });
  after(async () => {
    await client.close();
    await agent.stop();
    await removeTestContainers(engine, runId);
    await removeByNamePrefix(`disp-${runId}`);
  });

  it('start_container.response_channel: replies stdout, stderr and exit code, with UUID and TZ set', async () => {
    const channel = `out-${runId}-1`;
    const inbox = await client.collect(channel);
    await client.send('start_container.response_channel', {
      image: TEST_IMAGE, command: 'sh -c "echo uuid=$UUID; echo tz=${TZ:+set}; echo oops >&2"', response_channel: channel, labels,
    });
    const [reply] = await eventually('reply', async () => (inbox.messages.length ? inbox.json() : undefined));
    await inbox.stop();
    assert.equal(reply?.ok, true);
    assert.equal(reply?.exit_code, 0);
    assert.match(String(reply?.stdout), /^uuid=[0-9a-f]{32}\ntz=set\n$/);
    assert.equal(reply?.stderr, 'oops\n');
    assert.equal(reply?.action, 'start_container.response_channel');
    // a function run leaves nothing behind once the reply is out
    await eventually('container removed', async () => (await engine.containers.list({ labels })).length === 0 || undefined);
  });

  it('response_format raw publishes stdout alone (seed 000 chaining)', async () => {
    const channel = `out-${runId}-raw`;
    const inbox = await client.collect(channel);
    await client.send('start_container.response_channel', { image: TEST_IMAGE, command: ['echo', 'just this'], response_channel: channel, response_format: 'raw', labels });
    await eventually('raw reply', async () => inbox.messages.length > 0);
    await inbox.stop();
    assert.deepEqual(inbox.bodies(), ['just this\n']);
  });

  it('reports a non-zero exit with its output instead of dropping it', async () => {
    const r = await client.request('start_container.response_channel', { image: TEST_IMAGE, command: 'sh -c "echo partial; exit 7"', response_channel: `out-${runId}-nz`, labels });
    assert.equal(r.ok, false);
    assert.equal(r.exit_code, 7);
    assert.equal(r.stdout, 'partial\n');
    assert.equal((r.error as { code: string }).code, 'nonzero_exit');
  });

  it('stops a run past its timeout and says so', async () => {
    const r = await client.request('start_container.response_channel', { image: TEST_IMAGE, command: 'sh -c "echo started; sleep 30"', timeout: 1, response_channel: `out-${runId}-to`, labels });
    assert.equal(r.ok, false);
    assert.equal((r.error as { code: string; field: string }).code, 'timeout');
    assert.equal(r.stdout, 'started\n');
  });

  it('binds volumes {hostPath: {bind, mode}} as seed 000 does', async () => {
    const dir = bosunTestDir('vol');
    try {
      writeFileSync(join(dir, 'hello.txt'), 'from the host\n');
      const r = await client.request('start_container.response_channel', {
        image: TEST_IMAGE, command: 'cat /opt/data/hello.txt', volumes: { [dir]: { bind: '/opt/data', mode: 'ro' } }, response_channel: `out-${runId}-vol`, labels,
      });
      assert.equal(r.stdout, 'from the host\n');
    } finally {
      removeBosunTestDir(dir);
    }
  });

  it('start_container.create builds an image from a context, then runs it detached', async () => {
    const dir = bosunTestDir('ctx');
    try {
      writeFileSync(join(dir, 'Dockerfile'), `FROM ${TEST_IMAGE}\nRUN echo built > /built.txt\nCMD ["sleep","30"]\n`);
      const name = uniqueName(`built-${runId}`);
      const r = await client.request('start_container.create', { image: `bosun-test-built:${runId}`, name, build: true, context: dir, labels });
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.match(String((r.result as { build_log: string }).build_log), /Successfully built|writing image|Step 1/);
      const d = await engine.containers.inspect(name);
      assert.equal(d?.state.running, true);
      assert.deepEqual(d?.restartPolicy, { name: 'on-failure', maximumRetryCount: 5 });
      const cat = await engine.exec.run(name, { cmd: ['cat', '/built.txt'] });
      assert.equal(cat.output.stdout, 'built\n');
      await engine.containers.remove(name, { force: true });
      await engine.images.remove(`bosun-test-built:${runId}`, { force: true });
    } finally {
      removeBosunTestDir(dir);
    }
  });

  it('start_container.create starts an existing container of that name instead of duplicating it', async () => {
    const name = uniqueName(`exist-${runId}`);
    const first = await client.request('start_container.create', { image: TEST_IMAGE, name, command: 'sleep 30', labels });
    assert.equal((first.result as { created: boolean }).created, true);
    await engine.containers.stop(name, { timeoutSec: 0 });
    const second = await client.request('start_container.create', { image: TEST_IMAGE, name, command: 'sleep 30', labels });
    assert.deepEqual(second.result, { created: false, started: true, was_running: false });
    assert.equal((await engine.containers.list({ labels, name })).length, 1);
    assert.equal((await engine.containers.inspect(name))?.state.running, true);
  });

  it('start_containers_not_running: exact by default, begins-with when exact_value is false', async () => {
    const base = uniqueName(`snr-${runId}`);
    for (const suffix of ['-a', '-b']) {
      await engine.containers.create({ image: TEST_IMAGE, name: base + suffix, cmd: ['sleep', '30'], labels: bosunMade, stopTimeoutSec: 0 });
    }
    const exact = await client.request('start_containers_not_running', { name: base });
    assert.equal((exact.error as { code: string }).code, 'not_found');
    const one = await client.request('start_containers_not_running', { name: `${base}-a` });
    assert.deepEqual(one.result, { started: [`${base}-a`], already_running: [] });
    const prefix = await client.request('start_containers_not_running', { name: base, exact_value: false });
    assert.deepEqual(prefix.result, { started: [`${base}-b`], already_running: [`${base}-a`] });
  });

  it('container_status, stop, restart, remove and close_container', async () => {
    const name = uniqueName(`life-${runId}`);
    await engine.containers.create({ image: TEST_IMAGE, name, cmd: ['sleep', '60'], labels: bosunMade, stopTimeoutSec: 0 });
    await engine.containers.start(name);
    const status = await client.request('container_status', { name });
    assert.equal((status.result as { status: string }).status, 'running');
    const stopped = await client.request('stop_container', { name, timeout: 0 });
    assert.equal((stopped.result as { running: boolean }).running, false);
    const restarted = await client.request('restart_container', { name, timeout: 0 });
    assert.equal((restarted.result as { running: boolean }).running, true);
    const refused = await client.request('remove_container', { name });
    assert.equal((refused.error as { code: string; field: string }).field, 'force');
    const closed = await client.request('close_container', { name, timeout: 0 });
    assert.deepEqual(closed.result, { removed: true });
    assert.equal(await engine.containers.inspect(name), undefined);
    const again = await client.request('close_container', { name });
    assert.deepEqual(again.result, { removed: false, already_gone: true });
  });

  it('dispatch: seed 003 run/stop/remove with case-insensitive keys', async () => {
    const name = `disp-${runId}`;
    const run = await client.request('dispatch', { Dockercmd: 'run', Image: TEST_IMAGE, Cmd: ['echo', 'hello world!'], Options: { Name: `${name}-1`, Attach: ['STDOUT', 'STDERR'], Remove: true } });
    assert.equal(run.stdout, 'hello world!\n');
    // Removal follows the reply (off its critical path), so wait for it rather than race it.
    await eventually('the attached run\'s container removed', async () => (await engine.containers.inspect(`${name}-1`)) === undefined);
    const detached = await client.request('dispatch', { dockercmd: 'RUN', image: TEST_IMAGE, cmd: ['sleep', '60'], options: { name: `${name}-2` } });
    assert.equal(detached.ok, true);
    const stop = await client.request('dispatch', { DOCKERCMD: 'stop', Container: `${name}-2`, Options: { Time: 0 } });
    assert.deepEqual(stop.result, { stopped: true });
    const rm = await client.request('dispatch', { Dockercmd: 'remove', Container: `${name}-2`, Options: { Volumes: true, Force: true } });
    assert.deepEqual(rm.result, { removed: true });
    const bad = await client.request('dispatch', { Dockercmd: 'explode', Container: 'x' });
    assert.equal((bad.error as { field: string }).field, 'dockercmd');
  });

  it('monitor_container_status: notices a stop, with exit code; unknown containers are an error', async () => {
    const name = uniqueName(`mon-${runId}`);
    await engine.containers.create({ image: TEST_IMAGE, name, cmd: ['sh', '-c', 'sleep 60'], labels: bosunMade, stopTimeoutSec: 0 });
    await engine.containers.start(name);
    const channel = `mon-${runId}`;
    const inbox = await client.collect(channel);
    const ack = await client.request('monitor_container_status', { name, response_channel: channel, interval: 30 });
    assert.equal((ack.result as { monitoring: boolean }).monitoring, true);
    assert.equal(inbox.messages.length, 0);
    await engine.containers.kill(name, 'SIGKILL');
    const [notice] = await eventually('notice', async () => (inbox.messages.length ? inbox.json() : undefined));
    await inbox.stop();
    assert.equal(notice?.container, name);
    assert.equal(notice?.running, false);
    assert.equal(notice?.current_status, 'exited');
    assert.equal(notice?.exit_code, 137);
    assert.ok(!Number.isNaN(Date.parse(String(notice?.timestamp))));
    const unknown = await client.request('monitor_container_status', { name: `${name}-nope`, response_channel: channel });
    assert.equal((unknown.error as { code: string }).code, 'not_found');
  });
});
