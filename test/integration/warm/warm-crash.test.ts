/**
 * Warm pools across an agent crash, and a pool the policy refuses.
 * The agent runs as a child process so it can be SIGKILLed mid-run.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { LABEL } from '../../../src/domain/labels.js';
import type { AgentProcess } from '../../../src/app/agent-process.js';
import { claimName } from '../../../src/warm/plan.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine } from '../../helpers/docker.js';
import { AMQP_URL, TestClient, killChild, spawnAgent, startTestAgent, tempDir } from '../../helpers/agent.js';

const engine = testEngine();
const runId = newRunId();
const labels = { [LABEL.test]: runId };
const dir = tempDir('warm-crash');
const poolsFile = join(dir, 'pools.yaml');
writeFileSync(poolsFile, `pools:\n  - name: crash\n    image: ${TEST_IMAGE}\n    size: 2\n    match:\n      labels: { ${LABEL.test}: ${runId} }\n`);
const members = async () => engine.containers.list({ all: true, labels: { ...labels, [LABEL.pool]: 'crash' } });
const idle = async () => (await members()).filter((c) => c.name.startsWith('bosun-pool-') && c.status === 'running');

describe('warm pools after a crash', () => {
  let child: ChildProcess | undefined;
  let agent: AgentProcess | undefined;
  after(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await agent?.stop();
    await removeTestContainers(engine, runId);
  });

  it('idle members are adopted by the next agent; a run cut by the crash is not run twice on redelivery', async () => {
    const stateDir = tempDir('warm-crash-state');
    child = await spawnAgent(['--pools', poolsFile], { BOSUN_BROKER_URL: AMQP_URL, BOSUN_STATE_DIR: stateDir });
    await eventually('pool filled', async () => (await idle()).length === 2 || undefined, 30_000);
    const client = await TestClient.connect();
    const sink = await client.collect(`crash-${runId}-sink`);
    try {
      const requestId = `crash-${runId}`;
      await client.send('start_container.response_channel', { image: TEST_IMAGE, labels, request_id: requestId, response_channel: `crash-${runId}-sink`, command: ['sh', '-c', 'sleep 600'] });
      const claimed = claimName(requestId, undefined);
      await eventually('claimed by the run', async () => (await engine.containers.inspect(claimed))?.state.running || undefined, 30_000);
      // The other member plus the refill of the claimed one: wait until both idle members exist before the crash.
      await eventually('refilled', async () => (await idle()).length === 2 || undefined, 30_000);
      const idleBefore = (await idle()).map((c) => c.id).sort();
      await killChild(child);

      agent = await startTestAgent({ poolsFile, stateDir });
      assert.deepEqual((await idle()).map((c) => c.id).sort(), idleBefore, 'the same idle containers are kept');
      const [reply] = await eventually('reply to the redelivered run', async () => (sink.messages.length ? sink.json() : undefined), 30_000);
      assert.equal(reply?.ok, false);
      assert.equal((reply?.error as { code: string }).code, 'conflict');
      assert.equal(reply?.warm, true);
      await eventually('interrupted container removed', async () => (await engine.containers.inspect(claimed)) === undefined || undefined);
      assert.equal((await members()).filter((c) => c.status === 'running').length, 2);
    } finally {
      await sink.stop();
      await client.close();
    }
  });

  /**
   * An id-less long warm run in an agent that is then SIGKILLed; a new agent gets the message back
   * (the broker's redelivery, or the killed agent's own copy when `checkpointed`). Its reply must
   * be the conflict naming the first delivery's container, and nothing may run again.
   */
  async function idlessRunAcrossCrash(tag: string, o: { checkpointed: boolean }): Promise<Record<string, unknown> | undefined> {
    await agent?.stop();
    agent = undefined;
    const stateDir = tempDir(`warm-crash-${tag}`);
    // --checkpoint-minutes 0.01: after 0.6 s the message is republished as the agent's copy (message id: the random id) and the original acked.
    child = await spawnAgent(['--pools', poolsFile, ...(o.checkpointed ? ['--checkpoint-minutes', '0.01'] : [])], { BOSUN_BROKER_URL: AMQP_URL, BOSUN_STATE_DIR: stateDir });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await eventually('pool filled', async () => (await idle()).length === 2 || undefined, 30_000);
    const client = await TestClient.connect();
    const sink = await client.collect(`crash-${tag}-${runId}-sink`);
    try {
      // No request_id, message id or correlation id: each delivery of the original gets a fresh random id.
      await client.send('start_container.response_channel', { image: TEST_IMAGE, labels, response_channel: `crash-${tag}-${runId}-sink`, command: ['sh', '-c', 'sleep 600'] });
      const claimed = await eventually('claimed by the run', async () => (await members()).find((c) => c.name.startsWith('bosun-warm-b') && c.status === 'running'), 30_000);
      if (o.checkpointed) await eventually('checkpointed', async () => out.includes('long run checkpointed') || undefined, 30_000);
      await eventually('refilled', async () => (await idle()).length === 2 || undefined, 30_000);
      await killChild(child);

      agent = await startTestAgent({ poolsFile, stateDir });
      const [reply] = await eventually('reply to the message come back', async () => (sink.messages.length ? sink.json() : undefined), 30_000);
      assert.equal(reply?.ok, false, JSON.stringify(reply));
      assert.equal((reply?.error as { code: string }).code, 'conflict');
      assert.equal((reply?.container as { name: string }).name, claimed.name, "the first delivery's container");
      await eventually('interrupted container removed', async () => (await engine.containers.inspect(claimed.id)) === undefined || undefined);
      assert.equal((await members()).filter((c) => c.name.startsWith('bosun-warm-')).length, 0, 'nothing claimed another container');
      return reply;
    } finally {
      await sink.stop();
      await client.close();
    }
  }

  it('an id-less message whose warm run was cut by a crash is not run twice on redelivery (found by its body)', async () => {
    const reply = await idlessRunAcrossCrash('idless', { checkpointed: false });
    assert.match((reply?.error as { message: string }).message, /carries no request id, so it was matched by its body/);
  });

  it("the agent's own copy of an id-less warm run (a long run's checkpoint) is not run again after a crash", async () => {
    await idlessRunAcrossCrash('copy', { checkpointed: true });
  });

  it('two equal id-less messages both run warm, each in its own container', async () => {
    agent ??= await startTestAgent({ poolsFile });
    await eventually('pool filled', async () => (await idle()).length === 2 || undefined, 30_000);
    const client = await TestClient.connect();
    const sink = await client.collect(`twins-${runId}-sink`);
    try {
      const body = { image: TEST_IMAGE, labels, response_channel: `twins-${runId}-sink`, command: ['echo', 'twin'] };
      await client.send('start_container.response_channel', body);
      await client.send('start_container.response_channel', body);
      const replies = await eventually('both replies', async () => (sink.messages.length >= 2 ? sink.json() : undefined), 30_000);
      assert.deepEqual(replies.map((r) => [r.ok, r.warm, r.stdout]), [[true, true, 'twin\n'], [true, true, 'twin\n']], JSON.stringify(replies));
      const names = replies.map((r) => (r.container as { name: string }).name);
      assert.notEqual(names[0], names[1]);
    } finally {
      await sink.stop();
      await client.close();
    }
  });

  it('a pool the policy refuses stops the agent from starting, naming the pool', async () => {
    const bad = join(dir, 'bad-pools.yaml');
    writeFileSync(bad, `pools:\n  - name: root\n    image: ${TEST_IMAGE}\n    size: 1\n    match:\n      privileged: true\n      labels: { ${LABEL.test}: ${runId} }\n`);
    await assert.rejects(startTestAgent({ poolsFile: bad }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'policy_denied');
      assert.match(e.message, /pool "root".*privileged/);
      return true;
    });
    const bind = join(dir, 'bind-pools.yaml');
    writeFileSync(bind, `pools:\n  - name: etc\n    image: ${TEST_IMAGE}\n    size: 1\n    match:\n      volumes: { /etc: { bind: /host-etc } }\n`);
    await assert.rejects(startTestAgent({ poolsFile: bind }), /pool "etc"/);
    assert.deepEqual((await engine.containers.list({ all: true, labels: { [LABEL.pool]: 'root' } })).length, 0);
  });

  it('a pool file with a mistake is refused with the field named', async () => {
    const typo = join(dir, 'typo.yaml');
    writeFileSync(typo, `pools:\n  - image: ${TEST_IMAGE}\n    size: 0\n    mach: {}\n`);
    await assert.rejects(startTestAgent({ poolsFile: typo }), (e: Error) => {
      assert.match(e.message, /pools\.0\.size/);
      assert.match(e.message, /pools\.0\.mach: unknown field/);
      return true;
    });
  });
});
