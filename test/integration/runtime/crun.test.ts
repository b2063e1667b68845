/**
 * The run field `runtime` (issue 11): a run with `"runtime": "crun"` runs under crun on an
 * engine that has it registered (an engine of this test's own, scripts/ensure-crun-engine.sh:
 * the shared engine's configuration is not touched), and a runtime the policy does not allow is
 * refused as policy_denied naming the field — to the sender and on the errors queue, once,
 * with nothing created; a pool declared on crun serves only runs that name it. Real agent,
 * RabbitMQ and Docker.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createEngine } from '../../../src/adapters/engine-factory.js';
import type { AgentProcess } from '../../../src/app/agent-process.js';
import { LABEL } from '../../../src/domain/labels.js';
import type { ContainerEngine } from '../../../src/ports/engine.js';
import { ERRORS_CHANNEL, type InboundMessage } from '../../../src/ports/transport.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine } from '../../helpers/docker.js';
import { TestClient, startTestAgent, tempDir } from '../../helpers/agent.js';
import { rawDocker } from '../../helpers/raw-docker.js';

const run = promisify(execFile);
const script = join(import.meta.dirname, '../../../scripts/ensure-crun-engine.sh');
const host = `unix://${process.env.BOSUN_CRUN_ROOT ?? '/var/lib/bosun-crun-engine'}/docker.sock`;
const runId = newRunId();
const labels = { [LABEL.test]: runId };
type Reply = Record<string, unknown> & { error?: { code: string; field?: string; message: string }; container?: { id: string; name: string } };

// An own dockerd needs root; elsewhere the suite says why it does not run instead of passing empty.
const canStart = process.getuid?.() === 0;

describe('runtime: crun', { skip: canStart ? false : 'needs root to start an engine of its own (scripts/ensure-crun-engine.sh)' }, () => {
  let engine: ContainerEngine;
  let client: TestClient;
  let startedHere = false;

  before(async () => {
    startedHere = await run('docker', ['-H', host, 'info']).then(() => false, () => true);
    await run('bash', [script, 'start'], { timeout: 180_000 });
    engine = createEngine({ host });
    client = await TestClient.connect();
  });
  after(async () => {
    await client?.close();
    if (engine) await removeTestContainers(engine, runId);
    if (startedHere) await run('bash', [script, 'stop']);
  });

  it('a run with runtime crun runs under crun on that engine', async () => {
    const agent = await startTestAgent({ dockerHost: host });
    try {
      const r = (await client.request('start_container.response_channel', { image: TEST_IMAGE, command: ['sh', '-c', 'echo under-$((6*7))'], runtime: 'crun', remove: false, labels, response_channel: `crun-${runId}-ok` }, { timeoutMs: 120_000 })) as Reply;
      assert.equal(r.ok, true, JSON.stringify(r.error));
      assert.equal(r.stdout, 'under-42\n');
      assert.equal(r.exit_code, 0);
      const name = String(r.container?.name);
      const d = (await rawDocker(host).getContainer(name).inspect()) as { HostConfig: { Runtime: string }; State: { ExitCode: number } };
      assert.equal(d.HostConfig.Runtime, 'crun');
      assert.equal(d.State.ExitCode, 0);
      // On that engine only: the shared engine has no such container.
      assert.equal(await testEngine().containers.inspect(name), undefined);
      // The same run without the field uses the engine's default (runc): the field is what chose crun.
      const plain = (await client.request('start_container.response_channel', { image: TEST_IMAGE, command: ['true'], remove: false, labels, response_channel: `crun-${runId}-ok` }, { timeoutMs: 120_000 })) as Reply;
      assert.equal(plain.ok, true, JSON.stringify(plain.error));
      const pd = (await rawDocker(host).getContainer(String(plain.container?.name)).inspect()) as { HostConfig: { Runtime: string } };
      assert.equal(pd.HostConfig.Runtime, 'runc');
    } finally {
      await agent.stop();
    }
  });

  it('a pool on crun (match.runtime) serves a run naming crun warm; a run without the field goes cold', async () => {
    const pools = join(tempDir('crun-pool'), 'pools.yaml');
    writeFileSync(pools, `pools:\n  - name: fast\n    image: ${TEST_IMAGE}\n    size: 1\n    match:\n      runtime: crun\n      labels: { ${LABEL.test}: ${runId} }\n`);
    const agent = await startTestAgent({ dockerHost: host, poolsFile: pools });
    const idle = () => engine.containers.list({ labels: { ...labels, [LABEL.pool]: 'fast' } }).then((cs) => cs.filter((c) => c.name.startsWith('bosun-pool-')));
    try {
      const [member] = await eventually('the crun pool filled', async () => ((await idle()).length === 1 ? idle() : undefined), 60_000);
      const md = (await rawDocker(host).getContainer(member!.id).inspect()) as { HostConfig: { Runtime: string } };
      assert.equal(md.HostConfig.Runtime, 'crun', 'the member runs under crun');
      const r = (await client.request('start_container.response_channel', { image: TEST_IMAGE, command: ['sh', '-c', 'echo warm-$((6*7))'], runtime: 'crun', labels, response_channel: `crun-${runId}-pool` }, { timeoutMs: 120_000 })) as Reply;
      assert.equal(r.ok, true, JSON.stringify(r.error));
      assert.equal(r.warm, true, 'taken from the crun pool');
      assert.equal(r.stdout, 'warm-42\n');
      assert.equal(r.container?.id, member!.id, 'in the member that was idle');
      // The pool full again, so a cold run below is for its settings, not for an empty pool.
      await eventually('the crun pool refilled', async () => (await idle()).length === 1, 60_000);
      const plain = (await client.request('start_container.response_channel', { image: TEST_IMAGE, command: ['echo', 'plain'], labels, warm: true, response_channel: `crun-${runId}-pool` }, { timeoutMs: 120_000 })) as Reply & { result?: { notice?: string } };
      assert.equal(plain.ok, true, JSON.stringify(plain.error));
      assert.equal(plain.stdout, 'plain\n');
      assert.equal(plain.warm, false, 'a run without runtime does not take a crun member');
      assert.match(String(plain.result?.notice), /no pool has these create-time settings/);
      assert.equal((await idle()).length, 1, 'the crun member is still idle');
    } finally {
      await agent.stop();
    }
  });

  it('a runtime the policy does not allow is denied naming the field, once, and nothing is created', async () => {
    const dir = tempDir('crun-policy');
    const policyFile = join(dir, 'policy.yaml');
    writeFileSync(policyFile, 'allowed_runtimes: [runc]\n');
    const errorsChannel = `${ERRORS_CHANNEL}.${runId}`;
    const agent = await startTestAgent({ dockerHost: host, policyFile, errorsChannel });
    const id = `crun-denied-${runId}`;
    const parked: InboundMessage[] = [];
    const sub = await client.transport.consume(errorsChannel, async (m) => {
      parked.push(m);
      await m.ack();
    }, { prefetch: 10 });
    try {
      const r = (await client.request('start_container.response_channel', { image: TEST_IMAGE, command: ['true'], runtime: 'crun', labels, response_channel: `crun-${runId}-denied` }, { messageId: id, timeoutMs: 60_000 })) as Reply;
      assert.equal(r.ok, false);
      assert.equal(r.error?.code, 'policy_denied', JSON.stringify(r.error));
      assert.equal(r.error?.field, 'runtime');
      assert.match(r.error?.message ?? '', /crun/);
      await eventually('the refusal parked', async () => parked.length >= 1);
      // A run the policy allows, sent after it, is answered: everything before it was handled.
      const ok = (await client.request('start_container.response_channel', { image: TEST_IMAGE, command: ['true'], runtime: 'runc', labels, response_channel: `crun-${runId}-denied` }, { timeoutMs: 120_000 })) as Reply;
      assert.equal(ok.ok, true, JSON.stringify(ok.error));
      assert.deepEqual(parked.map((m) => m.messageId), [id], 'parked exactly once');
      const rec = JSON.parse(parked[0]!.body.toString('utf8')) as { error: { code: string; field?: string } };
      assert.deepEqual([rec.error.code, rec.error.field], ['policy_denied', 'runtime']);
      const made = await engine.containers.list({ all: true, labels: { ...labels, [LABEL.request]: id } });
      assert.equal(made.length, 0, 'the refused run created nothing');
    } finally {
      await sub.cancel();
      await agent.stop();
      await (client.transport as { deleteChannel?: (c: string) => Promise<void> }).deleteChannel?.(errorsChannel);
    }
  });
});
