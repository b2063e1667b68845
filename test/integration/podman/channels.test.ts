/**
 * The agent's channels end to end on Podman: a real agent whose engine is Podman's
 * Docker-compatible service (scripts/ensure-podman.sh), the real broker. Runs with output,
 * a build, the lifecycle channels, seed 003's dispatch and the event-driven monitor. The
 * agent is given only the host: it finds out that Podman answers (engine flavour) by itself.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerEngine } from '../../../src/ports/engine.js';
import { rawDocker } from '../../helpers/raw-docker.js';
import type { AgentProcess } from '../../../src/app/agent-process.js';
import { LABEL } from '../../../src/domain/labels.js';
import { TEST_IMAGE, eventually, newRunId, uniqueName } from '../../helpers/docker.js';
import { TestClient, startTestAgent } from '../../helpers/agent.js';
import { bosunTestDir, removeBosunTestDir } from '../../helpers/bosun-root.js';
import { PODMAN_HOST, podmanEngine } from '../../helpers/engines.js';

const runId = newRunId();
const labels = { [LABEL.test]: runId };
const bosunMade = { ...labels, [LABEL.managed]: 'true' };
let engine: ContainerEngine;
let agent: AgentProcess;
let client: TestClient;
type Reply = Record<string, unknown> & { ok?: boolean; result?: Record<string, unknown>; error?: { code: string; field?: string } };
const request = (channel: string, body: unknown) => client.request(channel, body) as Promise<Reply>;

describe('agent channels on Podman', () => {
  before(async () => {
    engine = await podmanEngine();
    const version = await rawDocker(PODMAN_HOST).version();
    assert.ok(version.Components?.some((c) => c.Name === 'Podman Engine'), 'Podman answers on its socket');
    agent = await startTestAgent({ dockerHost: PODMAN_HOST });
    client = await TestClient.connect();
  });
  after(async () => {
    await client?.close();
    await agent?.stop();
    for (const c of await engine.containers.list({ all: true, labels })) await engine.containers.remove(c.id, { force: true });
    for (const c of await engine.containers.list({ all: true, name: `disp-${runId}` })) await engine.containers.remove(c.id, { force: true });
  });

  it('start_container.response_channel replies stdout, stderr and exit code, and leaves nothing behind', async () => {
    const channel = `out-${runId}-1`;
    const inbox = await client.collect(channel);
    await client.send('start_container.response_channel', { image: TEST_IMAGE, command: 'sh -c "echo uuid=$UUID; echo oops >&2"', response_channel: channel, labels });
    const [reply] = await eventually('reply', async () => (inbox.messages.length ? inbox.json() : undefined));
    await inbox.stop();
    assert.equal(reply?.ok, true, JSON.stringify(reply));
    assert.equal(reply?.exit_code, 0);
    assert.match(String(reply?.stdout), /^uuid=[0-9a-f]{32}\n$/);
    assert.equal(reply?.stderr, 'oops\n');
    await eventually('container removed', async () => (await engine.containers.list({ labels })).length === 0);
  });

  it('reports a non-zero exit with its output, and a timeout', async () => {
    const nz = await request('start_container.response_channel', { image: TEST_IMAGE, command: 'sh -c "echo partial; exit 7"', response_channel: `out-${runId}-nz`, labels });
    assert.equal(nz.ok, false);
    assert.equal(nz.exit_code, 7);
    assert.equal(nz.stdout, 'partial\n');
    assert.equal(nz.error?.code, 'nonzero_exit');
    const to = await request('start_container.response_channel', { image: TEST_IMAGE, command: 'sh -c "echo started; sleep 30"', timeout: 1, response_channel: `out-${runId}-to`, labels });
    assert.equal(to.error?.code, 'timeout', JSON.stringify(to));
    assert.equal(to.stdout, 'started\n');
  });

  it('start_container.create builds an image from a context, then runs it detached', async () => {
    const dir = bosunTestDir('pctx');
    const image = `bosun-test-built:${runId}`;
    try {
      writeFileSync(join(dir, 'Dockerfile'), `FROM ${TEST_IMAGE}\nRUN echo built > /built.txt\nCMD ["sleep","30"]\n`);
      const name = uniqueName(`built-${runId}`);
      const r = await request('start_container.create', { image, name, build: true, context: dir, labels });
      assert.equal(r.ok, true, JSON.stringify(r));
      const d = await engine.containers.inspect(name);
      assert.equal(d?.state.running, true);
      assert.equal(d?.image, image, 'the image under the name it was asked for');
      assert.equal((await engine.exec.run(name, { cmd: ['cat', '/built.txt'] })).output.stdout, 'built\n');
      const again = await request('start_container.create', { image: TEST_IMAGE, name, command: 'sleep 30', labels });
      assert.deepEqual(again.result, { created: false, started: false, was_running: true });
      await engine.containers.remove(name, { force: true });
    } finally {
      await engine.images.remove(image, { force: true });
      removeBosunTestDir(dir);
    }
  });

  it('container_status, stop, restart, remove and close_container', async () => {
    const name = uniqueName(`life-${runId}`);
    await engine.containers.create({ image: TEST_IMAGE, name, cmd: ['sleep', '60'], labels: bosunMade, stopTimeoutSec: 0 });
    await engine.containers.start(name);
    assert.equal((await request('container_status', { name })).result?.status, 'running');
    assert.equal((await request('stop_container', { name, timeout: 0 })).result?.running, false);
    assert.equal((await request('restart_container', { name, timeout: 0 })).result?.running, true);
    assert.equal((await request('remove_container', { name })).error?.field, 'force');
    assert.deepEqual((await request('close_container', { name, timeout: 0 })).result, { removed: true });
    assert.equal(await engine.containers.inspect(name), undefined);
    assert.deepEqual((await request('close_container', { name })).result, { removed: false, already_gone: true });
  });

  it('dispatch: seed 003 run (attached, removed), run detached, stop, remove', async () => {
    const name = `disp-${runId}`;
    const run = await request('dispatch', { Dockercmd: 'run', Image: TEST_IMAGE, Cmd: ['echo', 'hello podman'], Options: { Name: `${name}-1`, Attach: ['STDOUT', 'STDERR'], Remove: true } });
    assert.equal(run.stdout, 'hello podman\n', JSON.stringify(run));
    await eventually('the attached run\'s container removed', async () => (await engine.containers.inspect(`${name}-1`)) === undefined);
    assert.equal((await request('dispatch', { dockercmd: 'RUN', image: TEST_IMAGE, cmd: ['sleep', '60'], options: { name: `${name}-2` } })).ok, true);
    assert.deepEqual((await request('dispatch', { DOCKERCMD: 'stop', Container: `${name}-2`, Options: { Time: 0 } })).result, { stopped: true });
    assert.deepEqual((await request('dispatch', { Dockercmd: 'remove', Container: `${name}-2`, Options: { Volumes: true, Force: true } })).result, { removed: true });
  });

  it('monitor_container_status notices a kill from Podman\'s event stream, with exit code', async () => {
    const name = uniqueName(`mon-${runId}`);
    await engine.containers.create({ image: TEST_IMAGE, name, cmd: ['sh', '-c', 'sleep 60'], labels: bosunMade, stopTimeoutSec: 0 });
    await engine.containers.start(name);
    const channel = `mon-${runId}`;
    const inbox = await client.collect(channel);
    const ack = await request('monitor_container_status', { name, response_channel: channel, interval: 30 });
    assert.equal(ack.result?.monitoring, true);
    assert.equal(inbox.messages.length, 0);
    await engine.containers.kill(name, 'SIGKILL');
    const [notice] = await eventually('notice', async () => (inbox.messages.length ? inbox.json() : undefined));
    await inbox.stop();
    assert.equal(notice?.container, name);
    assert.equal(notice?.running, false);
    assert.equal(notice?.current_status, 'exited');
    assert.equal(notice?.exit_code, 137);
  });
});
