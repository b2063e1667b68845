/**
 * On the real engine: deploy.replicas scaling up and down, orphans of services removed
 * from the file (kept and reported, removed with remove_orphans), an exec command that died
 * is run again without a recreate, a changed link alias recreates the linking container.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LABEL } from '../../../src/domain/labels.js';
import { TEST_IMAGE, eventually, newRunId, testEngine } from '../../helpers/docker.js';
import { StackFixture, byService } from './helpers.js';

const engine = testEngine();
const runId = newRunId();
const fx = new StackFixture(engine, runId);
const NAME = `${runId}s`;

type Knobs = { replicas?: number; alias?: string; withExtra?: boolean };
const text = (k: Knobs = {}) => `
name: ${NAME}
x-sleeper: &sleeper
  image: ${TEST_IMAGE}
  command: sleep 3600
  stop_signal: SIGKILL
services:
  db:
    <<: *sleeper
  worker:
    <<: *sleeper
    depends_on: [db]
    deploy: {replicas: ${k.replicas ?? 2}}
  linker:
    <<: *sleeper
    links: ["db:${k.alias ?? 'one'}"]
  side:
    <<: *sleeper
    network_mode: "service:db"
  warm:
    <<: *sleeper
    x-bosun: {exec_commands: [{cmd: "sleep 4243"}]}
${k.withExtra === false ? '' : `  extra:\n    <<: *sleeper\n`}`;

const names = async () => (await engine.containers.list({ all: true, labels: { [LABEL.stack]: NAME } })).map((c) => c.name.replace(/^\//, '')).sort();
const idOf = async (n: string) => (await engine.containers.inspect(`${NAME}-${n}`))?.id;

describe('stack scaling, orphans, exec and links drift (real engine)', () => {
  before(async () => {
    await engine.info();
  });
  after(async () => {
    await fx.cleanup();
  });

  it('up makes one container per replica', async () => {
    const r = await fx.run(fx.load('compose.yml', text()), 'up');
    assert.ok(r.ok, JSON.stringify(r.containers.filter((c) => c.status !== 'done')));
    assert.deepEqual(await names(), ['db', 'extra', 'linker', 'side', 'warm', 'worker-1', 'worker-2'].map((n) => `${NAME}-${n}`));
  });

  it('scaling up adds replicas, scaling down removes the surplus; the rest keep their ids', async () => {
    const w1 = await idOf('worker-1');
    const up = await fx.run(fx.load('compose.yml', text({ replicas: 3 })), 'update');
    assert.ok(up.ok, JSON.stringify(up.containers));
    assert.equal(up.changed, 1);
    assert.ok((await engine.containers.inspect(`${NAME}-worker-3`))?.state.running);
    const down = await fx.run(fx.load('compose.yml', text({ replicas: 1 })), 'update');
    assert.ok(down.ok, JSON.stringify(down.containers));
    assert.equal(down.changed, 2);
    assert.deepEqual((await names()).filter((n) => n.includes('worker')), [`${NAME}-worker-1`]);
    assert.equal(await idOf('worker-1'), w1);
  });

  it('a service gone from the file is reported as an orphan, removed only with remove_orphans', async () => {
    const stack = fx.load('compose.yml', text({ replicas: 1, withExtra: false }));
    const kept = await fx.run(stack, 'update');
    assert.equal(kept.changed, 0);
    assert.match(kept.containers.find((c) => c.container === `${NAME}-extra`)!.reasons.join(), /orphan/);
    assert.ok((await engine.containers.inspect(`${NAME}-extra`))?.state.running);
    const removed = await fx.run(stack, 'update', { remove_orphans: true });
    assert.ok(removed.ok);
    assert.equal(removed.changed, 1);
    assert.equal(await engine.containers.inspect(`${NAME}-extra`), undefined);
  });

  it('an exec command that is no longer running is run again, in the same container', async () => {
    const before = await idOf('warm');
    const top = await engine.containers.top(`${NAME}-warm`);
    const pid = top.find((p) => p.command === 'sleep 4243')?.pid;
    assert.ok(pid, JSON.stringify(top));
    await engine.exec.run(`${NAME}-warm`, { cmd: ['sh', '-c', "kill $(pidof 'sleep 4243' || ps | awk '/sleep 4243/ && !/awk/ {print $1}')"] });
    await eventually('exec command gone', async () => !(await engine.containers.top(`${NAME}-warm`)).some((p) => p.command === 'sleep 4243'));
    const stack = fx.load('compose.yml', text({ replicas: 1, withExtra: false }));
    const plan = await fx.run(stack, 'plan');
    assert.match(byService(plan.containers).warm!.reasons.join(), /exec command missing: sleep 4243/);
    const r = await fx.run(stack, 'update');
    assert.deepEqual(byService(r.containers).warm!.done, ['exec sleep 4243']);
    assert.equal(await idOf('warm'), before);
    assert.ok((await engine.containers.top(`${NAME}-warm`)).some((p) => p.command === 'sleep 4243'));
  });

  it('a changed link alias recreates only the linking container', async () => {
    const db = await idOf('db');
    const linker = await idOf('linker');
    const stack = fx.load('compose.yml', text({ replicas: 1, withExtra: false, alias: 'two' }));
    const plan = await fx.run(stack, 'plan');
    assert.equal(plan.changed, 1);
    assert.match(byService(plan.containers).linker!.reasons.join(), /links: .*:two \(container has .*:one\)/);
    const r = await fx.run(stack, 'update');
    assert.ok(r.ok, JSON.stringify(r.containers));
    assert.notEqual(await idOf('linker'), linker);
    assert.equal(await idOf('db'), db);
    const lookup = await engine.exec.run(`${NAME}-linker`, { cmd: ['nslookup', 'two'] });
    assert.equal(lookup.exitCode, 0, `the link alias resolves in the container: ${lookup.output.stdout}${lookup.output.stderr}`);
    const again = await fx.run(stack, 'update');
    assert.equal(again.changed, 0, JSON.stringify(again.containers.filter((c) => c.status !== 'unchanged')));
  });

  it('network_mode service:db shares db\'s network namespace, and follows db when db is recreated', async () => {
    const db = (await engine.containers.inspect(`${NAME}-db`))!;
    const side = (await engine.containers.inspect(`${NAME}-side`))!;
    assert.equal(side.networkMode, `container:${db.id}`);
    const stack = fx.load('compose.yml', text({ replicas: 1, withExtra: false, alias: 'two' }));
    const r = await fx.run(stack, 'update', { force_update: ['db'] });
    assert.ok(r.ok, JSON.stringify(r.containers));
    const db2 = (await engine.containers.inspect(`${NAME}-db`))!;
    const side2 = (await engine.containers.inspect(`${NAME}-side`))!;
    assert.notEqual(side2.id, side.id);
    assert.equal(side2.networkMode, `container:${db2.id}`);
    assert.ok(side2.state.running);
    const again = await fx.run(stack, 'update');
    assert.equal(again.changed, 0, JSON.stringify(again.containers.filter((c) => c.status !== 'unchanged')));
  });
});
