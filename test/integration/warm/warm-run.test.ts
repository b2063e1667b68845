/**
 * A warm run's container dies with its run: PID 1 is the pool's idle init, so whatever the
 * command left running in the background would outlive it unless the container is killed —
 * also when the reply never settles and nothing releases the container (a hostile review's find).
 */
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { LABEL } from '../../../src/domain/labels.js';
import { execWarm } from '../../../src/warm/warm-run.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine } from '../../helpers/docker.js';

const engine = testEngine();
const runId = newRunId();
after(() => removeTestContainers(engine, runId));

it('the container is killed once the exec returns, with what the command left in the background', async () => {
  const { id } = await engine.containers.create({ image: TEST_IMAGE, cmd: ['sleep', '2147483647'], labels: { [LABEL.test]: runId } });
  await engine.containers.start(id);
  const end = await execWarm(
    { id, name: 'warm-run-test', pool: 'test', image: {} },
    ['sh', '-c', 'sleep 600 >/dev/null 2>&1 & echo quick'],
    { image: TEST_IMAGE },
    { engine, signal: new AbortController().signal, timeoutMs: 30_000, outputLimit: 1 << 20, replyLimit: 1 << 20 },
  );
  assert.equal(end.exitCode, 0);
  assert.equal(end.out.stdout, 'quick\n');
  assert.equal(end.timedOut, false);
  // Nothing releases the container here: the kill alone must stop it.
  await eventually('warm container stopped', async () => (await engine.containers.inspect(id))?.state.running === false || undefined, 20_000);
});
