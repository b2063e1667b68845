/**
 * `bosun stack …` as a process on the real engine: up --json, plan (plain lines when piped),
 * ps, validate with file:line:col, run-script exit code, down.
 */
import { rawDocker } from '../../../test/helpers/raw-docker.js';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { LABEL } from '../../../src/domain/labels.js';
import { TEST_IMAGE, newRunId, testEngine } from '../../helpers/docker.js';
import { StackFixture } from './helpers.js';

const engine = testEngine();
const runId = newRunId();
const fx = new StackFixture(engine, runId);
const NAME = `${runId}k`;
fx.names.add(NAME);
const repoRoot = join(import.meta.dirname, '..', '..', '..');

const svc = (extra = '') => `    image: ${TEST_IMAGE}\n    command: sleep 3600\n    stop_signal: SIGKILL\n    labels: {${LABEL.test}: ${runId}}\n${extra}`;
const text = (env = 'one') => `name: ${NAME}\nservices:\n  db:\n${svc(`    environment: {V: ${env}}\n`)}  web:\n${svc('    depends_on: [db]\n')}`;

function bosun(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/app/cli.ts'), 'stack', ...args], { cwd: repoRoot, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('bosun stack CLI (real engine)', () => {
  before(async () => {
    await engine.info();
  });
  after(async () => {
    await fx.cleanup();
  });

  it('up --json: per-container results; containers running', async () => {
    const f = fx.write('compose.yml', text());
    const r = await bosun('up', '-f', f, '--json');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const out = JSON.parse(r.stdout) as { ok: boolean; changed: number; containers: { service: string; done: string[] }[] };
    assert.equal(out.ok, true);
    assert.equal(out.changed, 2);
    assert.equal((await engine.containers.inspect(`${NAME}-web`))?.state.running, true);
  });

  it('plan names the drifted field and changes nothing', async () => {
    const before = (await engine.containers.inspect(`${NAME}-db`))!.id;
    const f = fx.write('compose.yml', text('two'));
    const r = await bosun('plan', '-f', f);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, new RegExp(`${NAME}-db`));
    assert.match(r.stdout, /environment: V/);
    assert.ok(!r.stdout.includes('\u001b['), 'plain lines when piped');
    assert.equal((await engine.containers.inspect(`${NAME}-db`))!.id, before);
    const ps = await bosun('ps', '-f', f);
    assert.equal(ps.code, 0, ps.stderr);
    assert.match(ps.stdout, /web/);
  });

  it('validate: a bad file fails with file:line:col', async () => {
    const f = fx.write('bad.yml', `services:\n  app:\n    image: ${TEST_IMAGE}\n    depends_on: [nowhere]\n`);
    const r = await bosun('validate', '-f', f);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr + r.stdout, /bad\.yml:4:\d+: .*nowhere/);
  });

  it('run-script exits with the script\'s code', async () => {
    const f = fx.write('compose.yml', text());
    const r = await bosun('run-script', 'web', '-f', f, '--command', 'sh -c "echo from-script; exit 3"', '--remove-existing-before');
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stdout, /from-script/);
  });

  it('down removes the stack and its network', async () => {
    const f = fx.write('compose.yml', text());
    const r = await bosun('down', '-f', f);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal((await engine.containers.list({ all: true, labels: { [LABEL.stack]: NAME } })).length, 0);
    assert.equal((await rawDocker().listNetworks({ filters: JSON.stringify({ name: [`${NAME}_default`] }) })).length, 0);
  });
});
