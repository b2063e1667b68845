/**
 * Two agents' warm pools on one Docker engine: each adopts or removes only the pool containers
 * labelled with its own stable name. Agent B (a child process, so it can be SIGKILLed) starts,
 * crashes and restarts beside pool manager A, whose pool (same pool name, same settings) must stay
 * whole and keep serving.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { claimName } from '../../../src/warm/plan.js';
import { LABEL } from '../../../src/domain/labels.js';
import type { AgentProcess } from '../../../src/app/agent-process.js';
import { loadPolicy } from '../../../src/app/policy-file.js';
import { silentLogger } from '../../../src/util/log.js';
import { loadPoolFile } from '../../../src/warm/pool-file.js';
import { stableAgentName } from '../../../src/app/agent-name.js';
import { WarmPools } from '../../../src/warm/pools.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine } from '../../helpers/docker.js';
import { AMQP_URL, TestClient, killChild, spawnAgent, startTestAgent, tempDir } from '../../helpers/agent.js';

const engine = testEngine();
const runId = newRunId();
const labels = { [LABEL.test]: runId };
const dir = tempDir('warm-owner');
const poolsFile = join(dir, 'pools.yaml');
writeFileSync(poolsFile, `pools:\n  - name: shared\n    image: ${TEST_IMAGE}\n    size: 2\n    match:\n      labels: { ${LABEL.test}: ${runId} }\n`);

/** Idle (unclaimed, running) members of the "shared" pool owned by this name, sorted ids. */
const idleOf = async (owner: string) =>
  (await engine.containers.list({ labels: { ...labels, [LABEL.pool]: 'shared', [LABEL.poolOwner]: owner } }))
    .filter((c) => c.name.startsWith('bosun-pool-') && c.status === 'running')
    .map((c) => c.id)
    .sort();
const full = (owner: string) => eventually(`pool of ${owner} full`, async () => {
  const ids = await idleOf(owner);
  return ids.length === 2 ? ids : undefined;
}, 30_000);

describe("warm pools of two agents on one engine", () => {
  let child: ChildProcess | undefined;
  let agentB: AgentProcess | undefined;
  let poolsA: WarmPools | undefined;
  after(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await agentB?.stop();
    await poolsA?.stop();
    await removeTestContainers(engine, runId);
  });

  it("an agent starting or restarting leaves another agent's pool alone; that pool still serves", async () => {
    const ownerA = `owner-a-${runId}`;
    poolsA = new WarmPools({ engine, policy: await loadPolicy(undefined), log: silentLogger, file: await loadPoolFile(poolsFile), owner: ownerA });
    await poolsA.start();
    const membersA = await full(ownerA);

    const stateB = tempDir('warm-owner-b');
    const ownerB = stableAgentName(stateB);
    child = await spawnAgent(['--pools', poolsFile], { BOSUN_BROKER_URL: AMQP_URL, BOSUN_STATE_DIR: stateB });
    const membersB = await full(ownerB);
    assert.deepEqual(await idleOf(ownerA), membersA, "B's start neither removed nor adopted A's members");

    await killChild(child);
    // The restart: same host, same state dir, so the same owner name; its adoption is done when start resolves.
    agentB = await startTestAgent({ poolsFile, stateDir: stateB });
    assert.deepEqual(await idleOf(ownerB), membersB, "the restarted B adopted its own idle members");
    assert.deepEqual(await idleOf(ownerA), membersA, "A's members survived B's restart");
    assert.deepEqual(poolsA.status().map((s) => s.idle), [2], 'A still counts both as idle');

    // A's pool serves: a claim hands out one of A's original members and a command runs in it.
    const key = (await engine.containers.inspect(membersA[0] ?? ''))?.labels[LABEL.poolKey];
    assert.ok(key, 'pool key label');
    const claimed = await poolsA.claim(key, claimName(`owner-${runId}`, undefined));
    assert.ok(claimed && claimed !== 'taken', 'A claimed a member');
    assert.ok(membersA.includes(claimed.id), 'the member is one A made before B restarted');
    const r = await engine.exec.run(claimed.id, { cmd: ['echo', 'served by A'] });
    assert.equal(r.exitCode, 0);
    assert.equal(r.output.stdout, 'served by A\n');
    await poolsA.release(claimed.id);

    // B serves too, from its adopted members (only B consumes this broker's channels).
    const client = await TestClient.connect();
    try {
      const reply = await client.request('start_container.response_channel', { image: TEST_IMAGE, labels, response_channel: `owner-${runId}-sink`, command: ['echo', 'served by B'] });
      assert.equal(reply.ok, true, JSON.stringify(reply));
      assert.equal(reply.warm, true, JSON.stringify(reply));
      assert.equal(reply.stdout, 'served by B\n');
      assert.ok(membersB.includes((reply.container as { id: string }).id), 'B ran it in a member it adopted');
    } finally {
      await client.close();
    }
  });
});
