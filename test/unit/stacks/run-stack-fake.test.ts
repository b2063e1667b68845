/** runStack up, up again and down on the in-memory engine: what bosun's stack logic asks of an engine. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LABEL } from '../../../src/domain/labels.js';
import { loadStackFile } from '../../../src/stacks/load.js';
import { StackOptionsInput, resolveOptions } from '../../../src/stacks/options.js';
import { runStack } from '../../../src/stacks/run-stack.js';
import { FAKE_IMAGE, fakeEngine } from '../../helpers/fake-engine.js';

const dir = mkdtempSync(join(tmpdir(), 'bosun-stack-fake-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const stackText = `
name: shop
services:
  db:
    image: ${FAKE_IMAGE}
    command: sleep 3600
    healthcheck:
      test: ["CMD", "true"]
      interval: 100ms
  api:
    image: ${FAKE_IMAGE}
    command: sleep 3600
    environment: [MODE=fake]
    depends_on:
      db: {condition: service_healthy}
  worker:
    image: ${FAKE_IMAGE}
    command: sleep 3600
    deploy: {replicas: 2}
`;

function load() {
  const file = join(dir, 'stack.yml');
  writeFileSync(file, stackText);
  return loadStackFile(file, { extraLabels: { [LABEL.test]: 'fake' } });
}

const opts = () => resolveOptions(StackOptionsInput.parse({}));

describe('runStack on the fake engine', () => {
  it('up creates and starts every container with the stack labels; a second up changes nothing; down removes them', async () => {
    const engine = fakeEngine();
    const stack = load();
    const up = await runStack(engine, stack, 'up', opts(), { waitTimeoutMs: 10_000 });
    assert.equal(up.ok, true, JSON.stringify(up.containers));
    const mine = await engine.containers.list({ all: true, labels: { [LABEL.stack]: 'shop' } });
    assert.deepEqual(mine.map((c) => c.labels[LABEL.service]).sort(), ['api', 'db', 'worker', 'worker']);
    assert.ok(mine.every((c) => c.status === 'running' && c.labels[LABEL.managed] === 'true' && c.labels[LABEL.test] === 'fake'), JSON.stringify(mine));
    const api = await engine.containers.inspect(mine.find((c) => c.labels[LABEL.service] === 'api')!.id);
    assert.ok(api?.env.includes('MODE=fake'));
    assert.deepEqual(api?.cmd, ['sleep', '3600']);
    const db = await engine.containers.inspect(mine.find((c) => c.labels[LABEL.service] === 'db')!.id);
    assert.ok(Date.parse(db!.state.startedAt!) <= Date.parse(api!.state.startedAt!), 'db started before api');

    const again = await runStack(engine, stack, 'up', opts(), { waitTimeoutMs: 10_000 });
    assert.equal(again.ok, true);
    assert.equal(again.changed, 0, JSON.stringify(again.containers.filter((c) => c.status !== 'unchanged')));
    assert.deepEqual((await engine.containers.list({ all: true, labels: { [LABEL.stack]: 'shop' } })).map((c) => c.id).sort(), mine.map((c) => c.id).sort());

    const down = await runStack(engine, stack, 'down', opts(), { waitTimeoutMs: 10_000 });
    assert.equal(down.ok, true, JSON.stringify(down.containers));
    assert.equal(down.changed, 4);
    assert.deepEqual(await engine.containers.list({ all: true, labels: { [LABEL.stack]: 'shop' } }), []);
    for (const c of mine) assert.equal(await engine.containers.inspect(c.id), undefined);
  });

  it('a service that exits is reported with its exit code by the engine, and up starts it again', async () => {
    const engine = fakeEngine();
    const stack = load();
    await runStack(engine, stack, 'up', opts(), { waitTimeoutMs: 10_000 });
    const [w] = await engine.containers.list({ labels: { [LABEL.stack]: 'shop', [LABEL.service]: 'worker' } });
    await engine.containers.kill(w!.id, 'SIGKILL');
    assert.equal((await engine.containers.inspect(w!.id))?.state.exitCode, 137);
    const up = await runStack(engine, stack, 'up', opts(), { waitTimeoutMs: 10_000 });
    assert.equal(up.ok, true);
    assert.equal((await engine.containers.inspect(w!.id))?.state.running, true);
    await runStack(engine, stack, 'down', opts(), { waitTimeoutMs: 10_000 });
  });
});
