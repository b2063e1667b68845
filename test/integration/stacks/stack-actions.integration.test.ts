/**
 * docker-map actions on the real engine: create/start (service_healthy waits for health),
 * stop (dependents first), restart (only the named container), signal, remove, shutdown,
 * startup replacing a container that exited with a non-recoverable code, and a failure
 * mid-plan reporting what was already done.
 */
import { rawDocker } from '../../../test/helpers/raw-docker.js';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LABEL } from '../../../src/domain/labels.js';
import { runStack } from '../../../src/stacks/run-stack.js';
import { resolveOptions } from '../../../src/stacks/options.js';
import { TEST_IMAGE, eventually, newRunId, testEngine } from '../../helpers/docker.js';
import { StackFixture, byService } from './helpers.js';

const engine = testEngine();
const runId = newRunId();
const fx = new StackFixture(engine, runId);
const NAME = `${runId}a`;
const SICK = `${runId}s`;

const stackText = `
name: ${NAME}
services:
  db:
    image: ${TEST_IMAGE}
    # healthy only once /ready exists, which takes a moment: a dependent started early would show it
    command: sh -c "sleep 2; touch /ready; exec sleep 3600"
    stop_signal: SIGKILL
    healthcheck:
      test: ["CMD", "test", "-f", "/ready"]
      interval: 500ms
      timeout: 2s
      retries: 20
  api:
    image: ${TEST_IMAGE}
    command: sleep 3600
    stop_signal: SIGKILL
    depends_on:
      db: {condition: service_healthy}
  web:
    image: ${TEST_IMAGE}
    command: sleep 3600
    stop_signal: SIGKILL
    depends_on: [api]
  job:
    image: ${TEST_IMAGE}
    command: sh -c "exit 3"
    x-bosun: {nonrecoverable_exit_codes: [3]}
`;

async function state(service: string) {
  const d = await engine.containers.inspect(`${NAME}-${service}`);
  return d && { id: d.id, running: d.state.running, startedAt: d.state.startedAt ?? '', finishedAt: d.state.finishedAt ?? '', exitCode: d.state.exitCode, status: d.state.status };
}

describe('stack actions (real engine)', () => {
  before(async () => {
    await engine.info();
  });
  after(async () => {
    await fx.cleanup();
  });

  it('create: every container created, none started, one result each', async () => {
    const r = await fx.run(fx.load('compose.yml', stackText), 'create');
    assert.ok(r.ok, JSON.stringify(r.containers));
    const by = byService(r.containers);
    assert.deepEqual(Object.keys(by).sort(), ['api', 'db', 'job', 'web']);
    for (const c of r.containers) {
      assert.equal(c.status, 'done');
      assert.deepEqual(c.done, ['create']);
      assert.match(c.id ?? '', /^[0-9a-f]{64}$/);
      const s = (await state(c.service))!;
      assert.equal(s.id, c.id);
      assert.equal(s.status, 'created');
    }
    const again = await fx.run(fx.load('compose.yml', stackText), 'create');
    assert.equal(again.changed, 0);
    assert.ok(again.containers.every((c) => c.status === 'unchanged' && c.reasons.includes('exists')));
  });

  it('start: depends_on service_healthy waits until the dependency is healthy', async () => {
    const r = await fx.run(fx.load('compose.yml', stackText), 'start');
    assert.ok(r.ok, JSON.stringify(r.containers));
    const by = byService(r.containers);
    assert.deepEqual(by.db!.done, ['start']);
    assert.deepEqual(by.api!.done, ['start']);
    const db = await rawDocker().getContainer(`${NAME}-db`).inspect();
    const firstHealthy = (db.State.Health?.Log ?? []).find((l) => l.ExitCode === 0);
    assert.ok(firstHealthy, 'db has a passing health check');
    const api = (await state('api'))!;
    assert.ok(api.running);
    assert.ok(new Date(api.startedAt).getTime() >= new Date(firstHealthy.Start).getTime(), `api started ${api.startedAt} before db was healthy (${firstHealthy.Start})`);
    assert.ok(api.startedAt <= (await state('web'))!.startedAt, 'web after api');
  });

  it('startup replaces a container that exited with a non-recoverable code', async () => {
    const before = await eventually('job exits', async () => {
      const s = await state('job');
      return s && !s.running && s.status === 'exited' ? s : undefined;
    });
    assert.equal(before.exitCode, 3);
    const r = await fx.run(fx.load('compose.yml', stackText), 'startup');
    assert.ok(r.ok, JSON.stringify(r.containers));
    const by = byService(r.containers);
    assert.deepEqual(by.job!.done, ['remove', 'create', 'start']);
    assert.match(by.job!.reasons.join(';'), /non-recoverable code 3/);
    assert.notEqual(by.job!.id, before.id);
    assert.equal(await engine.containers.inspect(before.id), undefined, 'old container removed');
    assert.equal((await state('job'))!.id, by.job!.id);
    for (const s of ['db', 'api', 'web']) assert.equal(by[s]!.status, 'unchanged', `${s} left alone`);
  });

  it('startup leaves a container stopped with a recoverable code in place and just starts it', async () => {
    await engine.containers.stop(`${NAME}-web`, { timeoutSec: 0 });
    const before = (await state('web'))!;
    assert.equal(before.running, false);
    const r = await fx.run(fx.load('compose.yml', stackText), 'startup', { services: ['web'] });
    assert.ok(r.ok, JSON.stringify(r.containers));
    assert.deepEqual(byService(r.containers).web!.done, ['start']);
    const after = (await state('web'))!;
    assert.equal(after.id, before.id);
    assert.ok(after.running);
  });

  it('restart restarts only the named container', async () => {
    const before = { db: (await state('db'))!, api: (await state('api'))!, web: (await state('web'))! };
    const r = await fx.run(fx.load('compose.yml', stackText), 'restart', { services: ['api'] });
    assert.ok(r.ok, JSON.stringify(r.containers));
    assert.deepEqual(r.containers.map((c) => [c.service, c.done]), [['api', ['restart']]]);
    const api = (await state('api'))!;
    assert.equal(api.id, before.api.id);
    assert.notEqual(api.startedAt, before.api.startedAt, 'api restarted');
    assert.deepEqual(await state('db'), before.db);
    assert.deepEqual(await state('web'), before.web);
  });

  it('signal sends the signal to the selected service only', async () => {
    const r = await fx.run(fx.load('compose.yml', stackText), 'signal', { services: ['web'], signal: 'SIGKILL' });
    assert.ok(r.ok, JSON.stringify(r.containers));
    assert.deepEqual(r.containers.map((c) => [c.service, c.done]), [['web', ['kill SIGKILL']]]);
    const web = await eventually('web killed', async () => {
      const s = await state('web');
      return s && !s.running ? s : undefined;
    });
    assert.equal(web.exitCode, 137);
    assert.ok((await state('api'))!.running);
  });

  it('stop stops dependents before their dependencies', async () => {
    await fx.run(fx.load('compose.yml', stackText), 'start', { services: ['web'] });
    const r = await fx.run(fx.load('compose.yml', stackText), 'stop');
    assert.ok(r.ok, JSON.stringify(r.containers));
    const by = byService(r.containers);
    for (const s of ['db', 'api', 'web']) assert.deepEqual(by[s]!.done, ['stop'], s);
    const [db, api, web] = [(await state('db'))!, (await state('api'))!, (await state('web'))!];
    assert.ok(!db.running && !api.running && !web.running);
    assert.ok(web.finishedAt <= api.finishedAt, `web (${web.finishedAt}) stopped before api (${api.finishedAt})`);
    assert.ok(api.finishedAt <= db.finishedAt, `api (${api.finishedAt}) stopped before db (${db.finishedAt})`);
  });

  it('remove removes stopped containers and refuses running ones', async () => {
    await fx.run(fx.load('compose.yml', stackText), 'start', { services: ['db'] });
    const r = await fx.run(fx.load('compose.yml', stackText), 'remove', { services: ['web', 'job'] });
    assert.ok(r.ok, JSON.stringify(r.containers));
    const by = byService(r.containers);
    assert.deepEqual(by.web!.done, ['remove']);
    assert.deepEqual(by.job!.done, ['remove']);
    assert.equal(await state('web'), undefined);
    assert.equal(await state('job'), undefined);
    assert.ok((await state('api')) !== undefined, 'api is not a dependent of web: kept');
    const refused = await fx.run(fx.load('compose.yml', stackText), 'remove', { services: ['db'] });
    const rdb = byService(refused.containers).db!;
    assert.equal(rdb.status, 'unchanged');
    assert.match(rdb.reasons.join(';'), /running; stop it first/);
    assert.deepEqual(byService(refused.containers).api!.done, ['remove'], 'its stopped dependent api is removed');
    assert.ok((await state('db'))!.running);
  });

  it('shutdown stops and removes everything', async () => {
    const r = await fx.run(fx.load('compose.yml', stackText), 'shutdown');
    assert.ok(r.ok, JSON.stringify(r.containers));
    const by = byService(r.containers);
    assert.deepEqual(by.db!.done, ['stop', 'remove'], JSON.stringify(r.containers));
    assert.ok(['api', 'web', 'job'].every((x) => by[x]!.status === 'unchanged'), 'already gone');
    assert.equal((await engine.containers.list({ all: true, labels: { [LABEL.stack]: NAME } })).length, 0);
  });

  it('a failure mid-plan reports what was done, what failed and what was not attempted', async () => {
    const stack = fx.load('sick.yml', `
name: ${SICK}
services:
  base:
    image: ${TEST_IMAGE}
    command: sleep 3600
    stop_signal: SIGKILL
  sick:
    image: ${TEST_IMAGE}
    command: sleep 3600
    stop_signal: SIGKILL
    healthcheck: {test: ["CMD", "false"], interval: 500ms, retries: 1000}
  app:
    image: ${TEST_IMAGE}
    command: sleep 3600
    depends_on:
      base: {condition: service_started}
      sick: {condition: service_healthy}
  front:
    image: ${TEST_IMAGE}
    command: sleep 3600
    depends_on: [app]
`);
    const r = await runStack(engine, stack, 'up', resolveOptions(undefined), { waitTimeoutMs: 1500 });
    assert.equal(r.ok, false);
    const by = byService(r.containers);
    assert.deepEqual([by.base!.status, by.base!.done], ['done', ['create', 'start']]);
    assert.deepEqual([by.sick!.status, by.sick!.done], ['done', ['create', 'start']]);
    assert.equal(by.app!.status, 'failed');
    assert.deepEqual(by.app!.done, ['create'], 'created before the wait failed');
    assert.equal(by.app!.error?.code, 'timeout');
    assert.equal(by.app!.error?.op, 'start');
    assert.match(by.app!.error?.message ?? '', /sick.*service_healthy/);
    assert.match(by.app!.id ?? '', /^[0-9a-f]{64}$/, 'the created container is reported');
    // containers are created ahead of their dependencies' start: front exists but is not started
    assert.equal(by.front!.status, 'skipped');
    assert.deepEqual(by.front!.done, ['create']);
    assert.match(by.front!.reasons.join(';'), /not attempted: .*app failed \(done before: create\)/);
    assert.equal((await engine.containers.inspect(`${SICK}-app`))?.state.status, 'created');
    assert.equal((await engine.containers.inspect(`${SICK}-front`))?.state.status, 'created');
    const down = await fx.run(stack, 'down');
    assert.ok(down.ok, JSON.stringify(down.containers));
  });
});
