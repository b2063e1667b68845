/** `bosun exec`: one message through runAction against the real engine, no broker. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { LABEL } from '../../../src/domain/labels.js';
import { TEST_IMAGE, newRunId, removeTestContainers, testEngine, uniqueName, childBound } from '../../helpers/docker.js';

const repoRoot = join(import.meta.dirname, '..', '..', '..');
const runId = newRunId();
const labels = { [LABEL.test]: runId };
const engine = testEngine();

function bosunExec(channel: string, body: unknown): Promise<{ code: number; stdout: string; stderr: string }> {
  const bound = childBound();
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/app/cli.ts'), 'exec', channel, '--body', JSON.stringify(body)], { cwd: repoRoot, ...bound }, (err, stdout, stderr) => {
      // Killed at the bound is a failure of its own, never an exit code a test could expect.
      if (err?.killed || err?.signal) return reject(new Error(`bosun exec did not exit within ${bound.timeout} ms (${err.signal ?? 'killed'}): ${stdout}${stderr}`));
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('bosun exec', () => {
  after(() => removeTestContainers(engine, runId));

  it('runs a container to completion and prints its envelope; the function run leaves nothing behind', async () => {
    const name = uniqueName('exec');
    const r = await bosunExec('start_container.response_channel', { image: TEST_IMAGE, name, command: 'echo hello-exec', response_channel: 'unused', labels });
    assert.equal(r.code, 0, r.stderr);
    const env = JSON.parse(r.stdout) as { ok: boolean; exit_code: number; stdout: string; container: { name: string } };
    assert.deepEqual([env.ok, env.exit_code, env.stdout.trim(), env.container.name], [true, 0, 'hello-exec', name]);
    // remove (default true) ran after the envelope was printed, before the command exited.
    assert.equal(await engine.containers.inspect(name), undefined);
  });

  it('reports a failure in the envelope and the exit code', async () => {
    const name = uniqueName('exec-fail');
    const r = await bosunExec('start_container.response_channel', { image: TEST_IMAGE, name, command: 'sh -c "exit 3"', response_channel: 'unused', labels });
    assert.equal(r.code, 1, r.stderr);
    const env = JSON.parse(r.stdout) as { ok: boolean; exit_code: number; error: { code: string } };
    assert.deepEqual([env.ok, env.exit_code, env.error.code], [false, 3, 'nonzero_exit']);
    const invalid = await bosunExec('container_status', { name: 'x', colour: 'red' });
    assert.equal(invalid.code, 1);
    assert.equal((JSON.parse(invalid.stdout) as { error: { code: string; field: string } }).error.field, 'colour');
  });
});
