/**
 * refill_concurrency on the real engine: a pool fills one member at a time, each refill starting
 * the next (not the sweep, held off here), and never has more than that many being made.
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
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine } from '../../helpers/docker.js';
import { tempDir } from '../../helpers/agent.js';

const engine = testEngine();
const runId = newRunId();
after(() => removeTestContainers(engine, runId));

it('refill_concurrency: 1 fills a pool of 3 one member at a time, without waiting for the sweep', async () => {
  const file = join(tempDir('refill'), 'pools.yaml');
  writeFileSync(file, `pools:\n  - name: one-by-one\n    image: ${TEST_IMAGE}\n    size: 3\n    refill_concurrency: 1\n    match:\n      labels: { ${LABEL.test}: ${runId} }\n`);
  const pools = new WarmPools({ engine, policy: await loadPolicy(undefined), log: silentLogger, file: await loadPoolFile(file), owner: `refill-${runId}`, sweepMs: 600_000 });
  const seen = new Set<number>();
  try {
    await pools.start();
    const [status] = await eventually('pool full', async () => {
      const s = pools.status();
      seen.add(s[0]?.filling ?? -1);
      return s[0]?.idle === 3 ? s : undefined;
    }, 60_000, 5);
    assert.equal(status?.filling, 0);
    assert.ok(!seen.has(2) && !seen.has(3), `never more than one being made: ${[...seen].join(',')}`);
    assert.ok(seen.has(1), 'a member was seen being made');
    const running = await engine.containers.list({ labels: { [LABEL.test]: runId, [LABEL.pool]: 'one-by-one' } });
    assert.equal(running.length, 3);
  } finally {
    await pools.stop();
  }
});
