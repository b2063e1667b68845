/**
 * A warm run's container dies with its run: PID 1 is the pool's idle init, so whatever the
 * command left running in the background would outlive it unless the container is killed —
 * also when the reply never settles and nothing releases the container (a hostile review's find).
 * The kill comes after the run (WarmPools.finished), so it is not on the reply's path; the
 * release after the reply removes the container and cancels that kill.
 */
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LABEL } from '../../../src/domain/labels.js';
import { loadPolicy } from '../../../src/app/policy-file.js';
import { systemClock } from '../../../src/ports/clock.js';
import type { ContainerEngine } from '../../../src/ports/engine.js';
import type { ActionContext } from '../../../src/actions/types.js';
import { attachedRunSchema } from '../../../src/actions/schemas/run.js';
import { buildRunSpec } from '../../../src/actions/run-spec.js';
import { silentLogger } from '../../../src/util/log.js';
import { loadPoolFile } from '../../../src/warm/pool-file.js';
import { resolvedSpec } from '../../../src/warm/pool-spec.js';
import { WarmPools } from '../../../src/warm/pools.js';
import { claimWarm, runClaimed } from '../../../src/warm/warm-path.js';
import { execWarm } from '../../../src/warm/warm-run.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine } from '../../helpers/docker.js';
import { tempDir } from '../../helpers/agent.js';

const engine = testEngine();
const runId = newRunId();
const labels = { [LABEL.test]: runId };
after(() => removeTestContainers(engine, runId));

function poolFile(): string {
  const file = join(tempDir('warm-run'), 'pools.yaml');
  writeFileSync(file, `pools:\n  - name: run\n    image: ${TEST_IMAGE}\n    size: 1\n    match:\n      labels: { ${LABEL.test}: ${runId} }\n`);
  return file;
}

/** The engine, its container kills counted. */
function countingKills(): { engine: ContainerEngine; kills: string[] } {
  const kills: string[] = [];
  const containers = Object.create(engine.containers) as ContainerEngine['containers'];
  containers.kill = (id, ...rest) => {
    kills.push(id);
    return engine.containers.kill(id, ...rest);
  };
  return { engine: Object.assign(Object.create(engine) as ContainerEngine, { containers }), kills };
}

it("execWarm leaves an ended run's container to its caller; finished() alone then stops it, with what the command left in the background", async () => {
  const { id } = await engine.containers.create({ image: TEST_IMAGE, cmd: ['sleep', '2147483647'], labels });
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
  const pools = new WarmPools({ engine, policy: await loadPolicy(undefined), log: silentLogger, file: await loadPoolFile(poolFile()), owner: `warm-run-${runId}` });
  try {
    pools.finished(id);
    await eventually('warm container stopped', async () => (await engine.containers.inspect(id))?.state.running === false || undefined, 20_000);
  } finally {
    await pools.stop();
  }
});

it('runClaimed hands an ended run to finished(): should nothing release it, its container stops all the same', async () => {
  const policy = await loadPolicy(undefined);
  const pools = new WarmPools({ engine, policy, log: silentLogger, file: await loadPoolFile(poolFile()), owner: `warm-run-b-${runId}`, sweepMs: 600_000 });
  await pools.start();
  try {
    await eventually('pool filled', async () => pools.status()[0]?.idle === 1 || undefined, 30_000);
    const ctx: ActionContext = {
      engine, policy, log: silentLogger, clock: systemClock, requestId: `run-${runId}`, requestIdGiven: true, idGenerated: false, bodyHash: 'h',
      redelivered: false, channel: 'start_container.response_channel', signal: new AbortController().signal, pools,
      publish: async () => undefined, publishProgress: async () => undefined,
    };
    const input = attachedRunSchema.parse({ image: TEST_IMAGE, labels, response_channel: `run-${runId}-sink`, command: ['sh', '-c', 'sleep 600 >/dev/null 2>&1 & echo quick'] });
    const spec = resolvedSpec(policy, buildRunSpec(input, { requestId: ctx.requestId, bodyHash: ctx.bodyHash, channel: ctx.channel, image: TEST_IMAGE, uuid: '0', attached: true }));
    const claim = await claimWarm(ctx, input, spec, true, false);
    assert.equal(claim.kind, 'claimed', JSON.stringify(claim));
    if (claim.kind !== 'claimed') return;
    const tried = await runClaimed(ctx, claim.claimed, spec, { askedWarm: false, timeoutMs: 30_000, outputLimit: 1 << 20, replyLimit: 1 << 20 });
    assert.equal(tried.kind, 'warm', JSON.stringify(tried));
    if (tried.kind === 'warm') assert.equal(tried.end.out.stdout, 'quick\n');
    // No release (the reply never settled): the kill after the grace stops the container and its background sleep.
    await eventually('claimed container stopped', async () => (await engine.containers.inspect(claim.claimed.id))?.state.running === false || undefined, 20_000);
  } finally {
    await pools.stop();
  }
});

it('release() after finished() removes the container and cancels its pending kill', async () => {
  const { engine: counted, kills } = countingKills();
  const { id } = await engine.containers.create({ image: TEST_IMAGE, cmd: ['sleep', '2147483647'], labels });
  await engine.containers.start(id);
  const pools = new WarmPools({ engine: counted, policy: await loadPolicy(undefined), log: silentLogger, file: await loadPoolFile(poolFile()), owner: `warm-run-c-${runId}` });
  try {
    pools.finished(id);
    await pools.release(id);
    assert.equal(await engine.containers.inspect(id), undefined, 'removed by the release');
  } finally {
    // stop() fires every kill still pending: one left by the release would show here.
    await pools.stop();
  }
  assert.deepEqual(kills.filter((k) => k === id), [], 'no kill after the release');
});
