/**
 * `bosun agent` started with a setting it cannot use stops at once with one line naming it
 * (exit 1), not a stack trace, and before it consumes anything.
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

function bosunAgent(args: string[], env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const bound = childBound(60_000);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/app/cli.ts'), 'agent', '--no-workflows', ...args], { cwd: repoRoot, env: { ...process.env, BOSUN_STATE_DIR: tempDir('cli-settings'), ...env }, ...bound }, (err, _stdout, stderr) => {
      if (err?.killed || err?.signal) return reject(new Error(`bosun agent did not stop within ${bound.timeout} ms: ${stderr}`));
      resolve({ code: err ? Number(err.code ?? 1) : 0, stderr });
    });
  });
}

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
});
