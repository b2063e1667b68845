/**
 * `bosun workflow start|ls|status|history|define` against a real agent through RabbitMQ:
 * start --wait prints the states on stderr and the output alone on stdout (exit 0), a failed
 * execution's {error, cause} with exit 1; ls lists what ran; an error reply exits 1.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LABEL } from '../../../src/domain/labels.js';
import { startAgentProcess, type AgentProcess } from '../../../src/app/agent-process.js';
import { silentLogger } from '../../../src/util/log.js';
import { AMQP_URL, tempDir } from '../../helpers/agent.js';
import { TEST_IMAGE, newRunId, removeTestContainers, testEngine, childBound } from '../../helpers/docker.js';

const engine = testEngine();
const runId = newRunId();
const labels = { [LABEL.test]: runId };
const repoRoot = join(import.meta.dirname, '..', '..', '..');

const task = (command: string, next: string | null) => ({
  Type: 'Task', Resource: 'bosun:run',
  Parameters: { image: TEST_IMAGE, pull: 'never', labels, command: ['sh', '-c', command] },
  ...(next ? { Next: next } : { End: true }),
});

interface Cli { code: number | null; stdout: string; stderr: string }

function cli(args: string[], broker = AMQP_URL): Promise<Cli> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/app/cli.ts'), 'workflow', ...args], {
      cwd: repoRoot, env: { ...process.env, BOSUN_BROKER_URL: broker }, stdio: ['ignore', 'pipe', 'pipe'],
      // A CLI that hangs is killed, so the test fails with its output instead of waiting for ever.
      ...childBound(),
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('bosun workflow … through the broker', () => {
  let agent: AgentProcess;
  const stateDir = tempDir('wf-cli');
  const files = tempDir('wf-cli-files');
  const chainFile = join(files, 'chain.json');
  const failFile = join(files, 'fail.yaml');

  before(async () => {
    writeFileSync(chainFile, JSON.stringify({
      StartAt: 'Greet',
      States: {
        Greet: { ...task('echo "{\\"greeting\\": \\"hello\\"}"', 'Shout'), OutputPath: '$.json' },
        Shout: { ...task('echo "$BOSUN_INPUT" | tr a-z A-Z', null), ResultSelector: { 'shout.$': '$.stdout' } },
      },
    }));
    writeFileSync(failFile, [
      'StartAt: Broken',
      'States:',
      '  Broken:',
      '    Type: Task',
      '    Resource: bosun:run',
      `    Parameters: {image: ${TEST_IMAGE}, pull: never, labels: {bosun.test: ${runId}}, command: [sh, -c, 'echo nope >&2; exit 3']}`,
      '    End: true',
    ].join('\n'));
    agent = await startAgentProcess({ brokerUrl: AMQP_URL, concurrency: 4, log: silentLogger, stateDir });
  });
  after(async () => {
    await agent.stop();
    await removeTestContainers(engine, runId);
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(files, { recursive: true, force: true });
  });

  it('start --wait: states on stderr, the output alone on stdout, exit 0; ls, status and history show it', async () => {
    const name = `cli-${runId}`;
    const r = await cli(['start', chainFile, '--wait', '--execution-name', name, '--input', '{"who": "x"}', '--poll-ms', '200']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { shout: '{"GREETING":"HELLO"}\n' });
    assert.equal(r.stdout.trim().split('\n').length, 1, 'only the output on stdout');
    assert.match(r.stderr, /\[workflow\] StateEntered Greet/);
    assert.match(r.stderr, /\[workflow\] TaskSucceeded Shout/);

    const ls = await cli(['ls']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, new RegExp(`^${name}\\tSUCCEEDED\\t\\(inline\\)\\t`, 'm'));
    const status = await cli(['status', name]);
    assert.equal(status.code, 0, status.stderr);
    assert.equal((JSON.parse(status.stdout) as { status: string }).status, 'SUCCEEDED');
    const history = await cli(['history', name]);
    assert.equal(history.code, 0, history.stderr);
    const types = history.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
    assert.equal(types[0], 'ExecutionStarted');
    assert.equal(types.at(-1), 'ExecutionSucceeded');
  });

  it('define, then start --name --wait; a failing execution prints {error, cause} and exits 1', async () => {
    const wfName = `broken-${runId}`;
    const d = await cli(['define', wfName, failFile]);
    assert.equal(d.code, 0, d.stderr);
    assert.deepEqual(JSON.parse(d.stdout), { name: wfName, version: 1 });
    const r = await cli(['start', '--name', wfName, '--wait', '--quiet', '--poll-ms', '200']);
    assert.equal(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout) as { error: string; cause: string };
    assert.equal(out.error, 'bosun.NonZeroExit');
    assert.match(out.cause, /nope/);
    assert.equal(r.stderr, '', '--quiet prints no progress');
  });

  it('an unknown execution is an error reply naming the field, exit 1', async () => {
    const r = await cli(['status', `nope-${runId}`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not_found \(execution_id\)/);
  });
});
