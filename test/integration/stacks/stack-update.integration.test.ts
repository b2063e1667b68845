/**
 * `update` on the real engine: in-place limits (same id), recreate only what drifted and
 * what must follow it, reconnect networks without restart, no-op on an up-to-date stack.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LABEL } from '../../../src/domain/labels.js';
import { TEST_IMAGE, newRunId, testEngine } from '../../helpers/docker.js';
import { StackFixture, byService } from './helpers.js';

const engine = testEngine();
const runId = newRunId();
const fx = new StackFixture(engine, runId);
const NAME = `${runId}u`;

const svc = (extra = '') => `    image: ${TEST_IMAGE}\n    command: sleep 3600\n    stop_signal: SIGKILL\n${extra}`;
const stackText = (o: { dbEnv?: string; dbMem?: string; restart?: string; webNets?: string } = {}) => `
name: ${NAME}
services:
  db:
${svc(`    environment: {MODE: ${o.dbEnv ?? 'prod'}, KEEP: "1"}\n    mem_limit: ${o.dbMem ?? '64m'}\n    restart: ${o.restart ?? 'no'}\n`)}
  api:
${svc('    depends_on:\n      db: {condition: service_started, restart: true}\n')}
  legacy:
${svc('    links: ["db:database"]\n')}
  web:
${svc(`    depends_on: [api]\n    networks: ${o.webNets ?? '[front]'}\n`)}
  other:
${svc('    x-bosun: {exec_commands: [{cmd: "sleep 4242"}]}\n')}
networks:
  front: {}
  back: {}
`;

async function snapshot() {
  type Snap = { id: string; startedAt: string; running: boolean };
  const out = {} as Record<'db' | 'api' | 'legacy' | 'web' | 'other', Snap>;
  for (const s of ['db', 'api', 'legacy', 'web', 'other'] as const) {
    const d = (await engine.containers.inspect(`${NAME}-${s}`))!;
    out[s] = { id: d.id, startedAt: d.state.startedAt ?? '', running: d.state.running };
  }
  return out;
}

describe('stack update (real engine)', () => {
  before(async () => {
    await engine.info();
  });
  after(async () => {
    await fx.cleanup();
  });

  it('up brings the stack up, labelled, dependencies first', async () => {
    const r = await fx.run(fx.load('compose.yml', stackText()), 'up');
    assert.ok(r.ok, JSON.stringify(r.containers));
    assert.equal(r.changed, 5);
    const db = (await engine.containers.inspect(`${NAME}-db`))!;
    assert.equal(db.labels[LABEL.stack], NAME);
    assert.equal(db.labels[LABEL.service], 'db');
    assert.equal(db.labels[LABEL.instance], '');
    assert.match(db.labels[LABEL.specHash] ?? '', /^[0-9a-f]{16}$/);
    const snap = await snapshot();
    assert.ok(Object.values(snap).every((s) => s.running));
    assert.ok(snap.db.startedAt <= snap.api.startedAt && snap.api.startedAt <= snap.web.startedAt);
    const top = await engine.containers.top(`${NAME}-other`);
    assert.ok(top.some((p) => p.command === 'sleep 4242'), 'exec command runs after start');
  });

  it('a no-op update changes nothing', async () => {
    const before = await snapshot();
    const r = await fx.run(fx.load('compose.yml', stackText()), 'update');
    assert.equal(r.changed, 0, JSON.stringify(r.containers.filter((c) => c.status !== 'unchanged')));
    assert.deepEqual(await snapshot(), before);
  });

  it('limit changed → same container id, new limit; restart policy in place', async () => {
    const before = await snapshot();
    const stack = fx.load('compose.yml', stackText({ dbMem: '96m', restart: 'unless-stopped' }));
    const plan = await fx.run(stack, 'plan');
    assert.match(byService(plan.containers).db!.reasons.join(';'), /limits\.memory.*in place/);
    const r = await fx.run(stack, 'update');
    assert.ok(r.ok);
    assert.deepEqual(byService(r.containers).db!.done, ['update_in_place']);
    const db = (await engine.containers.inspect(`${NAME}-db`))!;
    assert.equal(db.id, before.db.id);
    assert.equal(db.resources.memory, 96 * 1024 * 1024);
    assert.equal(db.restartPolicy.name, 'unless-stopped');
    assert.equal(db.state.startedAt, before.db.startedAt, 'not restarted');
    assert.deepEqual(await snapshot(), before);
  });

  it('one env var changed → only that service and what must follow it recreated', async () => {
    const before = await snapshot();
    const stack = fx.load('compose.yml', stackText({ dbEnv: 'test', dbMem: '96m', restart: 'unless-stopped' }));
    const plan = await fx.run(stack, 'plan');
    const p = byService(plan.containers);
    assert.match(p.db!.reasons.join(';'), /environment: MODE/);
    assert.deepEqual(await snapshot(), before, 'plan changes nothing');
    const r = await fx.run(stack, 'update');
    assert.ok(r.ok, JSON.stringify(r.containers));
    const after = await snapshot();
    assert.notEqual(after.db.id, before.db.id, 'db recreated');
    assert.notEqual(after.legacy.id, before.legacy.id, 'legacy (links db) recreated');
    assert.equal(after.api.id, before.api.id, 'api (restart: true) kept its id');
    assert.notEqual(after.api.startedAt, before.api.startedAt, 'api restarted');
    assert.deepEqual(after.web, before.web, 'web untouched');
    assert.deepEqual(after.other, before.other, 'other untouched');
    assert.ok((await engine.containers.inspect(`${NAME}-db`))!.env.includes('MODE=test'));
  });

  it('network change → reconnected without a restart', async () => {
    const before = await snapshot();
    const r = await fx.run(fx.load('compose.yml', stackText({ dbEnv: 'test', dbMem: '96m', restart: 'unless-stopped', webNets: '[front, back]' })), 'update');
    assert.ok(r.ok, JSON.stringify(r.containers));
    assert.deepEqual(byService(r.containers).web!.done, [`connect ${NAME}_back`]);
    const web = (await engine.containers.inspect(`${NAME}-web`))!;
    assert.deepEqual(Object.keys(web.networks).sort(), [`${NAME}_back`, `${NAME}_front`]);
    assert.deepEqual(await snapshot(), before);
  });
});
