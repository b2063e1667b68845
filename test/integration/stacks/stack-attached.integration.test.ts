/**
 * docker-map's attached volumes on the real engine: a new attached volume is prepared
 * (owner = the service's user, x-bosun permissions), another service mounts it with
 * x-bosun uses and comes up after its owner; an existing volume is not prepared again.
 */
import { rawDocker } from '../../../test/helpers/raw-docker.js';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_IMAGE, newRunId, testEngine } from '../../helpers/docker.js';
import { StackFixture } from './helpers.js';

const engine = testEngine();
const runId = newRunId();
const fx = new StackFixture(engine, runId);
const NAME = `${runId}v`;

const text = `
name: ${NAME}
services:
  owner:
    image: ${TEST_IMAGE}
    command: sleep 3600
    stop_signal: SIGKILL
    user: "1234:1234"
    x-bosun: {attached: {data: /data}, permissions: "0750"}
  reader:
    image: ${TEST_IMAGE}
    command: sleep 3600
    stop_signal: SIGKILL
    x-bosun: {uses: [owner.data]}
`;

const statIn = async (container: string) => (await engine.exec.run(container, { cmd: ['stat', '-c', '%u %g %a', '/data'] })).output.stdout.trim();

describe('attached volumes: preparation and uses (real engine)', () => {
  before(async () => {
    await engine.info();
  });
  after(async () => {
    await fx.cleanup();
  });

  it('a new attached volume gets the service user as owner and the permissions; a user of it mounts the same volume', async () => {
    const r = await fx.run(fx.load('compose.yml', text), 'up');
    assert.ok(r.ok, JSON.stringify(r.containers));
    assert.equal(await statIn(`${NAME}-reader`), '1234 1234 750');
    await engine.exec.run(`${NAME}-owner`, { cmd: ['sh', '-c', 'echo shared > /data/f'] });
    assert.equal((await engine.exec.run(`${NAME}-reader`, { cmd: ['cat', '/data/f'] })).output.stdout.trim(), 'shared');
    const owner = (await engine.containers.inspect(`${NAME}-owner`))!;
    const reader = (await engine.containers.inspect(`${NAME}-reader`))!;
    assert.ok(reader.state.startedAt! >= owner.state.startedAt!, 'the owner comes first');
  });

  it('an existing volume is not prepared again when its container is recreated', async () => {
    await engine.exec.run(`${NAME}-reader`, { cmd: ['chmod', '0700', '/data'] });
    const r = await fx.run(fx.load('compose.yml', text), 'update', { force_update: ['owner'] });
    assert.ok(r.ok, JSON.stringify(r.containers));
    assert.equal(await statIn(`${NAME}-owner`), '1234 1234 700');
  });

  it('a preparation that fails is reported on the owner, and the volume is removed so the next run prepares it anew', async () => {
    const bad = text.replace(`name: ${NAME}`, `name: ${NAME}x`).replace('user: "1234:1234"', 'user: nosuchuser');
    const r = await fx.run(fx.load('bad.yml', bad), 'up');
    assert.equal(r.ok, false);
    const owner = r.containers.find((c) => c.service === 'owner')!;
    assert.equal(owner.status, 'failed');
    assert.match(owner.error!.message, /preparing attached volume .*nosuchuser/);
    assert.equal(r.containers.find((c) => c.service === 'reader')!.status, 'skipped');
    const vols = await rawDocker().listVolumes({ filters: JSON.stringify({ name: [`${NAME}x_owner_data`] }) });
    assert.equal((vols.Volumes ?? []).length, 0, 'the unprepared volume is gone');
  });
});
