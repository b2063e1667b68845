import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseStack } from '../../../src/stacks/load.js';
import { planIsEmpty, planStackAction } from '../../../src/planner/stack/plan.js';
import { DEFAULT_STACK_OPTIONS, type ObservedState, type StackActionName, type StackOptions, type StackPlan } from '../../../src/domain/stack.js';
import { observedUpToDate } from './fixtures.js';

const BASE = `
name: app
services:
  db:
    image: db:1
    mem_limit: 64m
    environment: {MODE: prod}
  cache:
    image: cache:1
  api:
    image: api:1
    environment: {LEVEL: info}
    depends_on:
      db: {condition: service_started, restart: true}
  legacy:
    image: legacy:1
    links: [db]
  web:
    image: web:1
    depends_on: [api, cache]
`;

const load = (text: string) => parseStack(text, { baseDir: '/tmp', env: {} });
const opts = (o: Partial<StackOptions> = {}): StackOptions => ({ ...DEFAULT_STACK_OPTIONS, ...o });
const plan = (action: StackActionName, text: string, observed: ObservedState, o: Partial<StackOptions> = {}) => planStackAction(action, load(text), observed, opts(o));
const opsOf = (p: StackPlan) => Object.fromEntries(p.steps.map((s) => [s.service, s.ops.map((o) => o.op).join(',')]));
const reasonsOf = (p: StackPlan, svc: string) => p.steps.find((s) => s.service === svc)!.reasons.join('; ');

describe('stack planner', () => {
  it('brings a missing stack up, dependencies first', () => {
    const p = plan('update', BASE, { containers: [], images: { 'db:1': 'sha256:1', 'cache:1': 'sha256:2', 'api:1': 'sha256:3', 'legacy:1': 'sha256:4', 'web:1': 'sha256:5' } });
    assert.deepEqual(opsOf(p), { db: 'create,start', cache: 'create,start', api: 'create,start', legacy: 'create,start', web: 'create,start' });
    assert.deepEqual(p.steps.find((s) => s.service === 'web')!.after.sort(), ['app-api', 'app-cache']);
    assert.ok(p.steps.findIndex((s) => s.service === 'db') < p.steps.findIndex((s) => s.service === 'api'));
  });

  it('pulls a missing image before create, builds when the service has a build', () => {
    const p = plan('create', 'services:\n  a: {image: a:1}\n  b: {build: ./b}\n', { containers: [], images: {} });
    assert.deepEqual(opsOf(p), { a: 'pull,create', b: 'build,create' });
  });

  it('plans nothing for an up-to-date stack', () => {
    const p = plan('update', BASE, observedUpToDate(load(BASE)));
    assert.ok(planIsEmpty(p), JSON.stringify(p.steps.map((s) => [s.container, s.reasons])));
  });

  it('changes a limit and the restart policy in place, nothing else', () => {
    const changed = BASE.replace('mem_limit: 64m', 'mem_limit: 128m\n    restart: always');
    const p = plan('update', changed, observedUpToDate(load(BASE)));
    assert.deepEqual(opsOf(p), { db: 'update_in_place', cache: '', api: '', legacy: '', web: '' });
    const op = p.steps.find((s) => s.service === 'db')!.ops[0]!;
    assert.deepEqual(op, { op: 'update_in_place', resources: { memory: 128 * 1024 ** 2, memorySwap: 256 * 1024 ** 2 }, restartPolicy: { name: 'always' } });
    assert.match(reasonsOf(p, 'db'), /limits\.memory: 67108864 → 134217728 \(in place\)/);
  });

  it('an engine that cannot update in place (Podman) gets the same change as a recreate, with the reason', () => {
    const changed = BASE.replace('mem_limit: 64m', 'mem_limit: 128m\n    restart: always');
    const p = plan('update', changed, { ...observedUpToDate(load(BASE)), inPlaceUpdate: false });
    assert.equal(opsOf(p).db, 'stop,remove,create,start');
    assert.match(reasonsOf(p, 'db'), /limits\.memory: 67108864 → 134217728 \(the engine cannot update in place\)/);
  });

  it('recreates when a limit is removed, unless skip_limit_reset', () => {
    const changed = BASE.replace('    mem_limit: 64m\n', '');
    assert.equal(opsOf(plan('update', changed, observedUpToDate(load(BASE)))).db, 'stop,remove,create,start');
    assert.equal(opsOf(plan('update', changed, observedUpToDate(load(BASE)), { skip_limit_reset: true })).db, '');
  });

  it('one env var changed: that service recreated, linked dependents recreated, restart:true dependents restarted, nothing else', () => {
    const changed = BASE.replace('MODE: prod', 'MODE: test');
    const p = plan('update', changed, observedUpToDate(load(BASE)));
    assert.deepEqual(opsOf(p), { db: 'stop,remove,create,start', cache: '', api: 'restart', legacy: 'stop,remove,create,start', web: '' });
    assert.match(reasonsOf(p, 'db'), /environment: MODE/);
    assert.match(reasonsOf(p, 'api'), /restart: true/);
    assert.match(reasonsOf(p, 'legacy'), /linked service recreated: db/);
  });

  it('names each drifted field: image, command, ports, volumes, labels, healthcheck', () => {
    const text = 'services:\n  a:\n    image: a:1\n    command: run\n    ports: ["80"]\n    labels: {x: "1"}\n';
    const observed = observedUpToDate(load(text));
    const changed = 'services:\n  a:\n    image: a:1\n    command: run2\n    ports: ["81"]\n    labels: {x: "2"}\n    volumes: ["/srv/d:/d"]\n    healthcheck: {test: ["CMD", "true"]}\n';
    const r = reasonsOf(plan('update', changed, { ...observed, images: { 'a:1': 'sha256:' + 'b'.repeat(64) } }), 'a');
    for (const f of ['image', 'command', 'ports', 'volumes: /d', 'labels: x', 'healthcheck']) assert.ok(r.includes(f), `${f} in ${r}`);
  });

  it('reconnects networks without recreating', () => {
    const text = 'services:\n  a: {image: a:1, networks: [front]}\nnetworks: {front: {}, back: {}}\n';
    const changed = 'services:\n  a: {image: a:1, networks: [front, back]}\nnetworks: {front: {}, back: {}}\n';
    const p = plan('update', changed, observedUpToDate(load(text)));
    assert.deepEqual(p.steps[0]!.ops, [{ op: 'connect', network: 'tmp_back', aliases: ['a'] }]);
  });

  it('force_update recreates; persistent services are not recreated unless update_persistent', () => {
    const text = 'services:\n  a: {image: a:1}\n  p: {image: p:1, x-bosun: {persistent: true}}\n';
    const o = observedUpToDate(load(text));
    assert.deepEqual(opsOf(plan('update', text, o, { force_update: ['a', 'p'] })), { a: 'stop,remove,create,start', p: '' });
    assert.deepEqual(opsOf(plan('update', text, o, { force_update: ['p'], update_persistent: true })), { a: '', p: 'stop,remove,create,start' });
  });

  it('runs missing exec commands (policy restart) and leaves initial ones alone', () => {
    const text = 'services:\n  a:\n    image: a:1\n    x-bosun: {exec_commands: [{cmd: "worker --x"}, {cmd: "once", policy: initial}]}\n';
    const o = observedUpToDate(load(text));
    o.containers[0]!.processes = [{ pid: '1', user: 'root', command: 'sh' }];
    assert.deepEqual(plan('update', text, o).steps[0]!.ops, [{ op: 'exec', command: { cmd: ['worker', '--x'], policy: 'restart' } }]);
    o.containers[0]!.processes.push({ pid: '9', user: 'root', command: 'worker --x' });
    assert.deepEqual(plan('update', text, o).steps[0]!.ops, []);
    assert.deepEqual(plan('update', text, o, { check_exec_commands: 'none' }).steps[0]!.ops, []);
  });

  it('startup removes containers with non-recoverable exits, creates missing, starts stopped', () => {
    const text = 'services:\n  a: {image: a:1}\n  b: {image: b:1}\n  c: {image: c:1}\n';
    const o = observedUpToDate(load(text));
    o.containers = o.containers.filter((c) => !c.name.endsWith('-c'));
    o.containers[0]!.state = { ...o.containers[0]!.state, status: 'exited', running: false, exitCode: 255 };
    o.containers[1]!.state = { ...o.containers[1]!.state, status: 'exited', running: false, exitCode: 1 };
    assert.deepEqual(opsOf(plan('startup', text, o)), { a: 'remove,create,start', b: 'start', c: 'create,start' });
    assert.deepEqual(opsOf(plan('startup', text, o, { nonrecoverable_exit_codes: [1] })), { a: 'start', b: 'remove,create,start', c: 'create,start' });
  });

  it('stop and shutdown go dependents first and include dependents of the named service', () => {
    const o = observedUpToDate(load(BASE));
    const p = plan('shutdown', BASE, o, { services: ['db'] });
    assert.deepEqual(Object.keys(opsOf(p)).sort(), ['api', 'db', 'legacy', 'web']);
    assert.deepEqual(p.steps.find((s) => s.service === 'db')!.after.sort(), ['app-api', 'app-legacy']);
    assert.deepEqual(p.steps.find((s) => s.service === 'api')!.after, ['app-web']);
    assert.equal(opsOf(p).db, 'stop,remove');
  });

  it('remove keeps persistent containers with remove_persistent=false, and running ones', () => {
    const text = 'services:\n  a: {image: a:1, x-bosun: {persistent: true}}\n  b: {image: b:1}\n';
    const o = observedUpToDate(load(text));
    assert.deepEqual(opsOf(plan('shutdown', text, o, { remove_persistent: false })), { a: '', b: 'stop,remove' });
    assert.deepEqual(opsOf(plan('remove', text, o)), { a: '', b: '' });
  });

  it('restart and signal touch only the named containers; the instances selector narrows', () => {
    const text = 'services:\n  db: {image: d:1}\n  w: {image: w:1, depends_on: [db], x-bosun: {instances: [x, y]}}\n';
    const o = observedUpToDate(load(text));
    assert.deepEqual(plan('restart', text, o, { services: ['w'], instances: ['y'] }).steps.map((s) => [s.container, s.ops.map((x) => x.op)]), [['tmp-w-y', ['restart']]]);
    assert.deepEqual(plan('signal', text, o, { services: ['db'], signal: 'SIGHUP' }).steps.map((s) => s.ops), [[{ op: 'kill', signal: 'SIGHUP' }]]);
  });

  it('pull pulls every image once (pull_all_images) or only missing ones', () => {
    const text = 'services:\n  a: {image: a:1}\n  b: {image: a:1}\n  c: {image: c:1}\n';
    const o = { containers: [], images: { 'a:1': 'sha256:1' } };
    assert.deepEqual(plan('pull', text, o).steps.map((s) => [s.container, s.ops.length]), [['a:1', 1], ['c:1', 1]]);
    assert.deepEqual(plan('pull', text, o, { pull_all_images: false }).steps.map((s) => [s.container, s.ops.length]), [['a:1', 0], ['c:1', 1]]);
  });

  it('scaling down removes the surplus instances after the rest is up; down removes them with their service', () => {
    const three = 'name: app\nservices:\n  db: {image: db:1}\n  w: {image: w:1, depends_on: [db], deploy: {replicas: 3}}\n';
    const observed = observedUpToDate(load(three));
    const two = three.replace('replicas: 3', 'replicas: 2');
    const p = plan('update', two, observed);
    const surplus = p.steps.find((s) => s.container === 'app-w-3')!;
    assert.deepEqual(surplus.ops.map((o) => o.op), ['stop', 'remove']);
    assert.match(surplus.reasons.join(), /no longer configured/);
    assert.deepEqual(surplus.after.sort(), ['app-w-1', 'app-w-2']);
    assert.equal(p.steps.filter((s) => s.ops.length).length, 1, 'nothing else changes');
    const down = plan('shutdown', two, observed);
    assert.deepEqual(down.steps.find((s) => s.container === 'app-w-3')!.ops.map((o) => o.op), ['stop', 'remove']);
    assert.ok(down.steps.find((s) => s.container === 'app-db')!.after.includes('app-w-3'), 'db waits for every w container');
  });

  it('orphans of services gone from the file are reported, and removed only with remove_orphans', () => {
    const observed = observedUpToDate(load(BASE));
    const without = BASE.replace(/  legacy:\n    image: legacy:1\n    links: \[db\]\n/, '');
    const kept = plan('update', without, observed).steps.find((s) => s.container === 'app-legacy')!;
    assert.deepEqual(kept.ops, []);
    assert.match(kept.reasons.join(), /orphan.*remove_orphans/);
    const removed = plan('update', without, observed, { remove_orphans: true }).steps.find((s) => s.container === 'app-legacy')!;
    assert.deepEqual(removed.ops.map((o) => o.op), ['stop', 'remove']);
    assert.equal(plan('update', without, observed, { services: ['web'] }).steps.find((s) => s.container === 'app-legacy'), undefined, 'not mentioned when acting on some services');
  });

  it('a changed link alias recreates the linking container', () => {
    const observed = observedUpToDate(load(BASE));
    const p = plan('update', BASE.replace('links: [db]', 'links: ["db:database"]'), observed);
    assert.deepEqual(opsOf(p).legacy, 'stop,remove,create,start');
    assert.match(reasonsOf(p, 'legacy'), /links: app-db:database \(container has app-db:db\)/);
  });

  it('network_mode service:X joins X\'s namespace, after X; Docker\'s container:ID is no drift; X recreated → recreated too', () => {
    const text = 'name: app\nservices:\n  db: {image: db:1, environment: {V: "1"}}\n  side: {image: s:1, network_mode: "service:db"}\n';
    const observed = observedUpToDate(load(text));
    const db = observed.containers.find((c) => c.name === 'app-db')!;
    const side = observed.containers.find((c) => c.name === 'app-side')!;
    side.networkMode = `container:${db.id}`;
    observed.containerIds = { 'app-db': db.id, 'app-side': side.id };
    const fresh = plan('update', text, { containers: [], images: observed.images });
    assert.equal(fresh.steps.find((s) => s.service === 'side')!.spec!.networkMode, 'container:app-db');
    assert.deepEqual(fresh.steps.find((s) => s.service === 'side')!.after, ['app-db']);
    assert.ok(planIsEmpty(plan('update', text, observed)));
    const p = plan('update', text.replace('V: "1"', 'V: "2"'), observed);
    assert.deepEqual(opsOf(p), { db: 'stop,remove,create,start', side: 'stop,remove,create,start' });
  });

  it('a service renamed by replicas starts its new container only after the old one is gone (host ports, names)', () => {
    const one = 'name: app\nservices:\n  w: {image: w:1, ports: ["8080:80"]}\n';
    const p = plan('update', one.replace('ports:', 'deploy: {replicas: 1}, ports:'), observedUpToDate(load(one)));
    const old = p.steps.find((s) => s.container === 'app-w')!;
    const fresh = p.steps.find((s) => s.container === 'app-w-1')!;
    assert.deepEqual(old.ops.map((o) => o.op), ['stop', 'remove']);
    assert.deepEqual(old.after, []);
    assert.deepEqual(fresh.after, ['app-w']);
    const orphaned = plan('update', 'name: app\nservices:\n  v: {image: w:1, ports: ["8080:80"]}\n', observedUpToDate(load(one)), { remove_orphans: true });
    assert.deepEqual(orphaned.steps.find((s) => s.container === 'app-v')!.after, ['app-w'], 'the orphan holding the port goes first');
  });
});
