/**
 * Image drift on the real engine (no registry: images are built locally): the configured
 * tag now names a different image id → update recreates only that service; `pull` with
 * the image present and pull_all_images false does nothing; a `build:` service is built
 * by up when its image is missing.
 */
import { rawDocker } from '../../../test/helpers/raw-docker.js';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LABEL } from '../../../src/domain/labels.js';
import { TEST_IMAGE, newRunId, testEngine } from '../../helpers/docker.js';
import { StackFixture, byService } from './helpers.js';

const engine = testEngine();
const runId = newRunId();
const fx = new StackFixture(engine, runId);
const NAME = `${runId}i`;
const TAG = `bosun-test-stack-img:${runId}`;
const BUILT = `bosun-test-stack-built:${runId}`;

async function buildTag(version: string): Promise<string> {
  const ctx = join(fx.dir, `ctx-${version}`);
  mkdirSync(ctx, { recursive: true });
  writeFileSync(join(ctx, 'Dockerfile'), `FROM ${TEST_IMAGE}\nLABEL bosun.test.version=${version}\n`);
  await engine.images.build({ contextDir: ctx, tag: TAG, labels: { [LABEL.test]: runId } });
  return (await engine.images.inspect(TAG))!.id;
}

const text = `
name: ${NAME}
services:
  app:
    image: ${TAG}
    command: sleep 3600
    stop_signal: SIGKILL
  other:
    image: ${TEST_IMAGE}
    command: sleep 3600
    stop_signal: SIGKILL
  built:
    image: ${BUILT}
    build: ./ctx-built
    command: sleep 3600
    stop_signal: SIGKILL
`;

describe('stack image drift (real engine)', () => {
  before(async () => {
    await engine.info();
  });
  after(async () => {
    await fx.cleanup();
    for (const t of [TAG, BUILT]) await rawDocker().getImage(t).remove({ force: true }).catch(() => undefined);
    // the first build of TAG, untagged by the second
    for (const i of await rawDocker().listImages({ filters: JSON.stringify({ label: [`${LABEL.test}=${runId}`] }) })) await rawDocker().getImage(i.Id).remove({ force: true }).catch(() => undefined);
  });

  it('up builds a missing build: image and runs the tagged image', async () => {
    const v1 = await buildTag('1');
    mkdirSync(join(fx.dir, 'ctx-built'));
    writeFileSync(join(fx.dir, 'ctx-built', 'Dockerfile'), `FROM ${TEST_IMAGE}\nRUN ["/bin/sh", "-c", "echo built > /built.txt"]\n`);
    const r = await fx.run(fx.load('compose.yml', text), 'up');
    assert.ok(r.ok, JSON.stringify(r.containers));
    assert.deepEqual(byService(r.containers).built!.done, ['build', 'create', 'start']);
    assert.equal((await engine.containers.inspect(`${NAME}-app`))!.imageId, v1);
    const cat = await engine.exec.run(`${NAME}-built`, { cmd: ['cat', '/built.txt'] });
    assert.equal(cat.output.stdout, 'built\n');
  });

  it('pull with the images present and pull_all_images false changes nothing', async () => {
    const r = await fx.run(fx.load('compose.yml', text), 'pull', { pull_all_images: false });
    assert.ok(r.ok, JSON.stringify(r.containers));
    assert.equal(r.changed, 0);
  });

  it('the tag now names another image → only that service recreated, plan says image', async () => {
    const before = { app: (await engine.containers.inspect(`${NAME}-app`))!.id, other: (await engine.containers.inspect(`${NAME}-other`))!.id, built: (await engine.containers.inspect(`${NAME}-built`))!.id };
    const v2 = await buildTag('2');
    const stack = fx.load('compose.yml', text);
    const plan = await fx.run(stack, 'plan');
    assert.equal(plan.changed, 1);
    assert.match(byService(plan.containers).app!.reasons.join(';'), /image/);
    const r = await fx.run(stack, 'update');
    assert.ok(r.ok, JSON.stringify(r.containers));
    const app = (await engine.containers.inspect(`${NAME}-app`))!;
    assert.notEqual(app.id, before.app);
    assert.equal(app.imageId, v2);
    assert.equal((await engine.containers.inspect(`${NAME}-other`))!.id, before.other);
    assert.equal((await engine.containers.inspect(`${NAME}-built`))!.id, before.built);
  });
});
