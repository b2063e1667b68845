/**
 * More drift cases and docker-map options on the real engine: command, ports, labels,
 * healthcheck, volume drift each recreate only their service; instances selector;
 * persistent + remove_persistent (docker-map default true); attached volumes + remove_attached;
 * service_completed_successfully.
 */
import { rawDocker } from '../../../test/helpers/raw-docker.js';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LABEL } from '../../../src/domain/labels.js';
import { TEST_IMAGE, newRunId, testEngine } from '../../helpers/docker.js';
import { StackFixture, byService } from './helpers.js';

const engine = testEngine();
const runId = newRunId();
const fx = new StackFixture(engine, runId);
const NAME = `${runId}d`;

type Knobs = { cmd?: string; port?: string; label?: string; health?: string; vol?: string };
const text = (k: Knobs = {}) => `
name: ${NAME}
services:
  a:
    image: ${TEST_IMAGE}
    command: ${k.cmd ?? 'sleep 3600'}
    stop_signal: SIGKILL
  b:
    image: ${TEST_IMAGE}
    command: sleep 3600
    stop_signal: SIGKILL
    ports: ["${k.port ?? '7001'}"]
  c:
    image: ${TEST_IMAGE}
    command: sleep 3600
    stop_signal: SIGKILL
    labels: {com.example.x: "${k.label ?? 'one'}"}
  d:
    image: ${TEST_IMAGE}
    command: sleep 3600
    stop_signal: SIGKILL
    healthcheck: {test: ["CMD", "${k.health ?? 'true'}"], interval: 30s}
  e:
    image: ${TEST_IMAGE}
    command: sleep 3600
    stop_signal: SIGKILL
    volumes: ["${k.vol ?? 'data'}:/data"]
  init:
    image: ${TEST_IMAGE}
    command: sh -c "echo done > /dev/null"
  after_init:
    image: ${TEST_IMAGE}
    command: sleep 3600
    stop_signal: SIGKILL
    depends_on:
      init: {condition: service_completed_successfully}
  keep:
    image: ${TEST_IMAGE}
    command: sleep 3600
    stop_signal: SIGKILL
    x-bosun:
      persistent: true
      attached: {store: /store}
  multi:
    image: ${TEST_IMAGE}
    command: sleep 3600
    stop_signal: SIGKILL
    x-bosun: {instances: [one, two]}
volumes:
  data: {}
  other: {}
`;

const ids = async () => {
  const list = await engine.containers.list({ all: true, labels: { [LABEL.stack]: NAME } });
  return Object.fromEntries(list.map((c) => [c.name.replace(/^\//, ''), c.id])) as Record<string, string>;
};

describe('stack drift and options (real engine)', () => {
  before(async () => {
    await engine.info();
  });
  after(async () => {
    await fx.cleanup();
  });

  it('up: service_completed_successfully waits for the one-shot; instances get their own containers', async () => {
    const r = await fx.run(fx.load('compose.yml', text()), 'up');
    assert.ok(r.ok, JSON.stringify(r.containers.filter((c) => c.status !== 'done')));
    const init = (await engine.containers.inspect(`${NAME}-init`))!;
    const after = (await engine.containers.inspect(`${NAME}-after_init`))!;
    assert.equal(init.state.exitCode, 0);
    assert.ok((after.state.startedAt ?? '') >= (init.state.finishedAt ?? ''), 'after_init started after init completed');
    assert.ok((await engine.containers.inspect(`${NAME}-multi-one`))?.state.running);
    assert.ok((await engine.containers.inspect(`${NAME}-multi-two`))?.state.running);
    const again = await fx.run(fx.load('compose.yml', text()), 'update');
    assert.equal(again.changed, 0, JSON.stringify(again.containers.filter((c) => c.status !== 'unchanged')));
  });

  for (const [knob, value, service, reason] of [
    ['cmd', 'sleep 3601', 'a', /command/],
    ['port', '7002', 'b', /port/],
    ['label', 'two', 'c', /label/],
    ['health', 'false', 'd', /healthcheck/],
    ['vol', 'other', 'e', /volume|mount/],
  ] as const) {
    it(`${knob} drift recreates only ${service}, and plan says why`, async () => {
      const before = await ids();
      const k: Knobs = { [knob]: value };
      const stack = fx.load('compose.yml', text(k));
      const plan = await fx.run(stack, 'plan');
      assert.equal(plan.changed, 1, JSON.stringify(plan.containers.filter((c) => c.status !== 'unchanged')));
      assert.match(byService(plan.containers)[service]!.reasons.join(';'), reason);
      const r = await fx.run(stack, 'update');
      assert.ok(r.ok, JSON.stringify(r.containers));
      const after = await ids();
      for (const [name, id] of Object.entries(before)) {
        if (name === `${NAME}-${service}`) assert.notEqual(after[name], id, `${name} recreated`);
        else assert.equal(after[name], id, `${name} kept`);
      }
      // back to the base file for the next case
      const back = await fx.run(fx.load('compose.yml', text()), 'update');
      assert.ok(back.ok && back.changed === 1, JSON.stringify(back.containers.filter((c) => c.status !== 'unchanged')));
    });
  }

  it('instances selector: restart only multi-two', async () => {
    const one = (await engine.containers.inspect(`${NAME}-multi-one`))!;
    const two = (await engine.containers.inspect(`${NAME}-multi-two`))!;
    const r = await fx.run(fx.load('compose.yml', text()), 'restart', { services: ['multi'], instances: ['two'] });
    assert.deepEqual(r.containers.map((c) => [c.container, c.done]), [[`${NAME}-multi-two`, ['restart']]]);
    assert.equal((await engine.containers.inspect(`${NAME}-multi-one`))!.state.startedAt, one.state.startedAt);
    assert.notEqual((await engine.containers.inspect(`${NAME}-multi-two`))!.state.startedAt, two.state.startedAt);
  });

  it('shutdown with remove_persistent false keeps a persistent container and its attached volume; remove_persistent + remove_attached remove both', async () => {
    const stack = fx.load('compose.yml', text());
    const r = await fx.run(stack, 'shutdown', { remove_persistent: false, remove_attached: true });
    assert.ok(r.ok, JSON.stringify(r.containers));
    assert.match(byService(r.containers).keep!.reasons.join(';'), /persistent/, JSON.stringify(byService(r.containers).keep));
    assert.ok(await engine.containers.inspect(`${NAME}-keep`), 'persistent container kept');
    const vol = `${NAME}_keep_store`;
    assert.ok(await rawDocker().getVolume(vol).inspect(), 'attached volume kept');
    // docker-map's default: remove_persistent true
    const all = await fx.run(stack, 'shutdown', { remove_attached: true });
    assert.ok(all.ok, JSON.stringify(all.containers));
    assert.deepEqual(byService(all.containers).keep!.done, ['stop', 'remove']);
    assert.equal(await engine.containers.inspect(`${NAME}-keep`), undefined);
    await assert.rejects(rawDocker().getVolume(vol).inspect(), 'attached volume removed');
  });
});
