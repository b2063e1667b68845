/**
 * `bosun agent` (and `bosun exec`) started with a setting it cannot use stops at once with one line
 * naming it (exit 1), not a stack trace, and before it consumes anything.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LABEL } from '../../../src/domain/labels.js';
import { TEST_IMAGE, childBound, newRunId, testEngine } from '../../helpers/docker.js';
import { tempDir } from '../../helpers/agent.js';

const repoRoot = join(import.meta.dirname, '..', '..', '..');
const runId = newRunId();
const engine = testEngine();

function bosun(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const bound = childBound(60_000);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/app/cli.ts'), ...args], { cwd: repoRoot, env: { ...process.env, BOSUN_STATE_DIR: tempDir('cli-settings'), ...env }, ...bound }, (err, stdout, stderr) => {
      if (err?.killed || err?.signal) return reject(new Error(`bosun ${args[0]} did not stop within ${bound.timeout} ms: ${stderr}`));
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr });
    });
  });
}
const bosunAgent = (args: string[], env: Record<string, string>) => bosun(['agent', '--no-workflows', ...args], env);

describe('bosun agent: settings it cannot use', () => {
  after(async () => {
    for (const c of await engine.containers.list({ all: true, labels: { [LABEL.test]: runId } })) await engine.containers.remove(c.id, { force: true });
  });

  it('an unknown BOSUN_LOG_LEVEL is named in one line, exit 1', async () => {
    const r = await bosunAgent([], { BOSUN_LOG_LEVEL: 'verbose' });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'bosun: BOSUN_LOG_LEVEL: "verbose" is not a log level (expected one of trace, debug, info, warn, error, fatal, silent)\n');
  });

  it('an empty BOSUN_LOG_LEVEL is unset, and --log-level wins over it: the agent gets as far as its pool file', async () => {
    // A pool the policy refuses: the agent must have got past its logger to say so.
    const pools = join(tempDir('cli-settings-pools'), 'pools.yaml');
    writeFileSync(pools, `pools:\n  - name: root\n    image: ${TEST_IMAGE}\n    size: 1\n    match:\n      privileged: true\n      labels: { ${LABEL.test}: ${runId} }\n`);
    for (const [args, env] of [[[], { BOSUN_LOG_LEVEL: '' }], [['--log-level', 'warn'], { BOSUN_LOG_LEVEL: 'verbose' }]] as const) {
      const r = await bosunAgent(['--pools', pools, ...args], env);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^bosun: policy_denied: pool "root": privileged containers are not allowed by policy\n$/m);
      assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, 'no stack trace');
    }
    assert.equal((await engine.containers.list({ all: true, labels: { [LABEL.test]: runId } })).length, 0, 'nothing was created');
  });

  it('bosun exec reads only its own --log-level: BOSUN_LOG_LEVEL does not stop it, an unknown flag value does', async () => {
    const body = JSON.stringify({ name: `nonexistent-${runId}` });
    const ran = await bosun(['exec', 'container_status', '--body', body], { BOSUN_LOG_LEVEL: 'verbose' });
    assert.equal(ran.code, 1, ran.stderr);
    assert.equal((JSON.parse(ran.stdout) as { error?: { code: string } }).error?.code, 'not_found', 'the message was handled');
    const refused = await bosun(['exec', 'container_status', '--body', body, '--log-level', 'loud'], {});
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, '');
    assert.equal(refused.stderr, 'bosun: --log-level: "loud" is not a log level (expected one of trace, debug, info, warn, error, fatal, silent)\n');
  });
});
