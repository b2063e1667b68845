/**
 * A warm run's container dies with its run: PID 1 is the pool's idle init, so whatever the
 * command left running in the background would outlive it unless the container is killed —
 * also when the reply never settles and nothing releases the container (a hostile review's find).
 * The kill comes after the run (WarmPools.finished), so it is not on the reply's path.
 */
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LABEL } from '../../../src/domain/labels.js';
import { loadPolicy } from '../../../src/app/policy-file.js';
import { silentLogger } from '../../../src/util/log.js';
import { loadPoolFile } from '../../../src/warm/pool-file.js';
import { WarmPools } from '../../../src/warm/pools.js';
import { execWarm } from '../../../src/warm/warm-run.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine } from '../../helpers/docker.js';
import { tempDir } from '../../helpers/agent.js';

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
  assert.equal((await engine.containers.inspect(id))?.state.running, true, 'execWarm leaves an ended run\'s container to its caller');
  // Nothing releases the container here (its reply never settled): finished() alone must stop it.
  const file = join(tempDir('warm-run'), 'pools.yaml');
  writeFileSync(file, `pools:\n  - name: unused\n    image: ${TEST_IMAGE}\n    size: 1\n`);
  const pools = new WarmPools({ engine, policy: await loadPolicy(undefined), log: silentLogger, file: await loadPoolFile(file), owner: `warm-run-${runId}` });
  try {
    pools.finished(id);
    await eventually('warm container stopped', async () => (await engine.containers.inspect(id))?.state.running === false || undefined, 20_000);
  } finally {
    await pools.stop();
  }
});
