/**
 * run_script on the real engine: dependencies brought up first, {id, exit_code, log},
 * a script file mounted at container_script_dir, timeout → {id, error},
 * remove_existing_before / remove_created_after.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runScript } from '../../../src/stacks/run-script.js';
import { resolveOptions } from '../../../src/stacks/options.js';
import { TEST_IMAGE, newRunId, testEngine } from '../../helpers/docker.js';
import { StackFixture } from './helpers.js';

const engine = testEngine();
const runId = newRunId();
const fx = new StackFixture(engine, runId);
const NAME = `${runId}r`;

const text = `
name: ${NAME}
services:
  db:
    image: ${TEST_IMAGE}
    command: sleep 3600
    stop_signal: SIGKILL
  tool:
    image: ${TEST_IMAGE}
    command: "true"
    environment: {GREETING: hello}
    depends_on: [db]
`;

describe('run_script (real engine)', () => {
  before(async () => {
    await engine.info();
  });
  after(async () => {
    await fx.cleanup();
  });

  it('runs a command in a fresh container of the service after its dependencies: {id, exit_code, log}', async () => {
    const stack = fx.load('compose.yml', text);
    const r = await runScript(engine, stack, { service: 'tool', command_format: ['sh', '-c', 'echo "$GREETING from tool"; echo oops >&2; exit 5'] }, resolveOptions(undefined));
    assert.ok('exit_code' in r, JSON.stringify(r));
    assert.equal(r.exit_code, 5);
    assert.match(r.id, /^[0-9a-f]{64}$/);
    assert.match(r.log, /hello from tool/);
    assert.match(r.log, /oops/);
    assert.equal((await engine.containers.inspect(`${NAME}-db`))?.state.running, true, 'dependency brought up');
    assert.equal(await engine.containers.inspect(r.id), undefined, 'remove_created_after (default) removed it');
  });

  it('mounts a script file at container_script_dir and substitutes {script_path}', async () => {
    const stack = fx.load('compose.yml', text);
    const script = fx.write('hello.sh', 'echo "script says $1"\n');
    const r = await runScript(engine, stack, { service: 'tool', script_path: script, command_format: 'sh {script_path} hi', container_script_dir: '/scripts' }, resolveOptions(undefined));
    assert.ok('exit_code' in r, JSON.stringify(r));
    assert.equal(r.exit_code, 0);
    assert.equal(r.log.trim(), 'script says hi');
  });

  it('timestamps prefixes each log line; tail keeps the last N lines', async () => {
    const stack = fx.load('compose.yml', text);
    const r = await runScript(engine, stack, { service: 'tool', command_format: ['sh', '-c', 'for i in 1 2 3 4 5; do echo line$i; done'], timestamps: true, tail: 2 }, resolveOptions(undefined));
    assert.ok('exit_code' in r, JSON.stringify(r));
    const lines = r.log.trim().split('\n');
    assert.equal(lines.length, 2, r.log);
    assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line4$/);
    assert.match(lines[1]!, /Z line5$/);
  });

  it('remove_created_after false keeps the container; a second run needs remove_existing_before', async () => {
    const stack = fx.load('compose.yml', text);
    const first = await runScript(engine, stack, { service: 'tool', command_format: 'echo first', remove_created_after: false }, resolveOptions(undefined));
    assert.ok('exit_code' in first && first.exit_code === 0, JSON.stringify(first));
    assert.equal((await engine.containers.inspect(first.id))?.state.exitCode, 0, 'kept');
    await assert.rejects(runScript(engine, stack, { service: 'tool', command_format: 'echo second' }, resolveOptions(undefined)), (e: Error & { code?: string }) => e.code === 'conflict' && /remove_existing_before/.test(e.message));
    const second = await runScript(engine, stack, { service: 'tool', command_format: 'echo second', remove_existing_before: true }, resolveOptions(undefined));
    assert.ok('exit_code' in second, JSON.stringify(second));
    assert.equal(second.log.trim(), 'second');
    assert.equal(await engine.containers.inspect(first.id), undefined, 'the existing one was removed before');
  });

  it('timeout → {id, error}; remove_created_after still removes the running container', async () => {
    const stack = fx.load('compose.yml', text);
    const r = await runScript(engine, stack, { service: 'tool', command_format: 'sleep 60', wait_timeout_s: 1 }, resolveOptions(undefined));
    assert.ok('error' in r && !('exit_code' in r), JSON.stringify(r));
    assert.match(r.id, /^[0-9a-f]{64}$/);
    assert.match(r.error, /did not finish within 1000 ms/);
    assert.equal(await engine.containers.inspect(r.id), undefined);
  });

  it('timeout with remove_created_after false leaves the container for inspection', async () => {
    const stack = fx.load('compose.yml', text);
    const r = await runScript(engine, stack, { service: 'tool', command_format: 'sleep 60', wait_timeout_s: 1, remove_created_after: false, remove_existing_before: true }, resolveOptions(undefined));
    assert.ok('error' in r, JSON.stringify(r));
    assert.equal((await engine.containers.inspect(r.id))?.state.running, true);
    await engine.containers.remove(r.id, { force: true });
  });
});
