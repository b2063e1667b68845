/**
 * Finding 8: names and images with `/..` made dockerode call a path the daemon answers with a
 * redirect; docker-modem followed it as a plain HTTP request to a host named after a path
 * segment, and that request's 'error' event had no listener — the agent process died, and the
 * redelivered message killed it again. Real agent process, real RabbitMQ and Docker.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createEngine } from '../../../src/adapters/engine-factory.js';
import type { ContainerEngine } from '../../../src/ports/engine.js';
import { isBosunError } from '../../../src/domain/errors.js';
import { AMQP_URL, TestClient, spawnAgent, stopChild, tempDir } from '../../helpers/agent.js';
import { eventually } from '../../helpers/docker.js';

const errorsQueue = `bosun.errors.crash-${randomUUID().slice(0, 8)}`;
let client: TestClient;
let child: ChildProcess;
let output = '';

const crashing: [string, Record<string, unknown>, string][] = [
  ['container_status', { name: 'x/..' }, 'name'],
  ['stop_container', { name: '../../containers/json' }, 'name'],
  ['remove_container', { name: 'x/../..' }, 'name'],
  ['start_containers_not_running', { name: 'x/..' }, 'name'],
  ['monitor_container_status', { name: 'x/..', response_channel: 'mon-x' }, 'name'],
  ['dispatch', { Dockercmd: 'stop', Container: 'x/..' }, 'container'],
  ['dispatch', { Dockercmd: 'run', Image: 'a/../../b' }, 'image'],
  ['start_container.create', { image: 'a/../../b' }, 'image'],
  ['start_container.response_channel', { image: 'a/../../b', response_channel: 'out-x' }, 'image'],
];

describe('the agent survives names and images that address other engine paths', () => {
  before(async () => {
    client = await TestClient.connect();
    child = await spawnAgent(['--errors-queue', errorsQueue], { BOSUN_STATE_DIR: tempDir('crash'), BOSUN_BROKER_URL: AMQP_URL });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  });
  after(async () => {
    await stopChild(child);
    await client.close();
  });

  for (const [channel, body, field] of crashing) {
    it(`${channel} ${JSON.stringify(body)}: invalid_message naming ${field}, and the agent is still up`, async () => {
      const reply = await client.request(channel, body, { timeoutMs: 20_000 });
      const error = reply.error as { code: string; field: string; message: string };
      assert.equal(reply.ok, false);
      assert.equal(error.code, 'invalid_message', JSON.stringify(reply));
      assert.equal(error.field.toLowerCase(), field);
      assert.equal(child.exitCode, null, output);
      assert.equal(child.signalCode, null);
    });
  }

  it('each was parked exactly once, nothing is left queued, and the process logged no uncaught error', async () => {
    const parked = await client.collect(errorsQueue);
    await eventually('all parked', async () => parked.messages.length >= crashing.length, 10_000);
    await parked.stop();
    assert.equal(parked.messages.length, crashing.length);
    for (const ch of new Set(crashing.map(([c]) => c))) assert.equal(await client.transport.depth(ch), 0, ch);
    assert.equal(child.exitCode, null);
    assert.doesNotMatch(output, /uncaught|unhandled|ENOTFOUND/i);
  });

  it('the adapter itself refuses such names, so no caller can build a bad engine URL (in this very process)', async () => {
    const engine = createEngine();
    const refused = (e: unknown) => isBosunError(e) && e.code === 'invalid_message';
    await assert.rejects(engine.containers.inspect('x/..'), refused);
    await assert.rejects(engine.containers.stop('a/../../b'), refused);
    await assert.rejects(engine.containers.logs('x/..'), refused);
    await assert.rejects(engine.images.inspect('a/../../b'), refused);
    await assert.rejects(engine.images.remove('..'), refused);
    await assert.rejects(engine.networks.remove('x/..'), refused);
    await assert.rejects(engine.volumes.remove('../x'), refused);
    // …and encodes the rest: a slash in an image reference stays inside one path segment.
    assert.equal(await engine.containers.inspect(`no-such-${randomUUID()}`), undefined);
    assert.ok(await engine.images.inspect('bosun-busybox:latest'));
  });
});
