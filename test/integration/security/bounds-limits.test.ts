/**
 * Finding 12 (limits): every container bosun makes gets the policy's default pids, memory, CPU
 * and log rotation; a fork bomb stops at the pids limit; asks above the policy maximum are
 * refused naming the field. Real agent, RabbitMQ and Docker.
 */
import { rawDocker } from '../../../test/helpers/raw-docker.js';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LABEL } from '../../../src/domain/labels.js';
import type { AgentProcess } from '../../../src/app/agent-process.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine, uniqueName } from '../../helpers/docker.js';
import { TestClient, startTestAgent } from '../../helpers/agent.js';

const engine = testEngine();
const runId = newRunId();
const labels = { [LABEL.test]: runId };
const MiB = 1024 * 1024;
let agent: AgentProcess;
let client: TestClient;

type Reply = Record<string, unknown> & { error?: { code: string; field?: string; message: string } };
interface HostConfig { PidsLimit?: number | null; Memory?: number; NanoCpus?: number; LogConfig?: { Type: string; Config: Record<string, string> } }

async function hostConfig(name: string): Promise<HostConfig> {
  return ((await rawDocker().getContainer(name).inspect()) as { HostConfig: HostConfig }).HostConfig;
}

describe('default limits on every container bosun makes', () => {
  before(async () => {
    agent = await startTestAgent();
    client = await TestClient.connect();
  });
  after(async () => {
    await client.close();
    await agent.stop();
    await removeTestContainers(engine, runId);
  });

  it('a bounded fork bomb (700 sleeps) stops at the default pids limit of 512', async () => {
    // busybox sh exits when a fork fails, so the count it printed last is how far it got
    const r = (await client.request('start_container.response_channel', {
      image: TEST_IMAGE, labels, remove: false, response_channel: `out-${runId}-fork`,
      command: ['sh', '-c', 'i=0; while [ $i -lt 700 ]; do sleep 120 & i=$((i+1)); echo $i; done; echo loop-done'],
    }, { timeoutMs: 120_000 })) as Reply;
    const name = String((r.container as { name: string }).name);
    assert.equal((await hostConfig(name)).PidsLimit, 512);
    const spawned = Number(String(r.stdout).trim().split('\n').at(-1));
    console.log(`# fork bomb: ${spawned} sleeps spawned of 700, then ${JSON.stringify(r.stderr)}`);
    assert.doesNotMatch(String(r.stdout), /loop-done/);
    assert.match(String(r.stderr), /can't fork/, 'spawning beyond the limit fails');
    assert.equal(r.error?.code, 'nonzero_exit');
    assert.ok(spawned < 512 && spawned > 400, `${spawned} processes were spawned`);
    await engine.containers.remove(name, { force: true });
  });

  it('the pids limit holds for a detached run too (processes counted with top)', async () => {
    const name = uniqueName(`forkd-${runId}`);
    // the inner shell dies at its first failed fork; the sleeps it made live on under PID 1
    const r = (await client.request('start_container.create', {
      image: TEST_IMAGE, name, labels, restart_policy: 'no',
      command: ['sh', '-c', 'sh -c "i=0; while [ \\$i -lt 700 ]; do sleep 120 & i=\\$((i+1)); done"; echo loop-ended; exec sleep 120'],
    })) as Reply;
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal((await hostConfig(name)).PidsLimit, 512);
    // the log so far, without following (the raw multiplexed bytes hold the text)
    const log = await eventually('the loop to end', async () => {
      const raw = String(await rawDocker().getContainer(name).logs({ stdout: true, stderr: true, follow: false }));
      return raw.includes('loop-ended') ? raw : undefined;
    }, 120_000, 500);
    const d = await engine.containers.inspect(name);
    assert.equal(d?.state.running, true, `${JSON.stringify(d?.state)} ${JSON.stringify(log)}`);
    const processes = (await engine.containers.top(name)).length;
    console.log(`# detached fork bomb: ${processes} processes in the container`);
    assert.ok(processes <= 512 && processes > 400, `${processes} processes run in the container`);
    assert.match(log, /can't fork/);
    await engine.containers.remove(name, { force: true });
  });

  it('memory, CPU and a rotated json-file log are set when the run asks for none', async () => {
    const r = (await client.request('start_container.response_channel', {
      image: TEST_IMAGE, command: 'true', labels, remove: false, response_channel: `out-${runId}-d`,
    })) as Reply;
    assert.equal(r.ok, true, JSON.stringify(r));
    const name = String((r.container as { name: string }).name);
    const hc = await hostConfig(name);
    assert.equal(hc.Memory, 512 * MiB);
    assert.equal(hc.NanoCpus, 1e9);
    assert.equal(hc.PidsLimit, 512);
    assert.deepEqual(hc.LogConfig, { Type: 'json-file', Config: { 'max-size': String(10 * MiB), 'max-file': '3' } });
    await engine.containers.remove(name, { force: true });
  });

  it('asks within the maximum are honoured; dispatch runs get the defaults too', async () => {
    const r = (await client.request('start_container.response_channel', {
      image: TEST_IMAGE, command: 'true', labels, remove: false, resources: { memory: '64m', cpus: 0.5, pids_limit: 32 }, response_channel: `out-${runId}-w`,
    })) as Reply;
    assert.equal(r.ok, true, JSON.stringify(r));
    const hc = await hostConfig(String((r.container as { name: string }).name));
    assert.deepEqual([hc.Memory, hc.NanoCpus, hc.PidsLimit], [64 * MiB, 5e8, 32]);
    const name = uniqueName(`disp-${runId}`);
    const d = (await client.request('dispatch', { Dockercmd: 'run', Image: TEST_IMAGE, Cmd: ['sleep', '30'], Options: { Name: name } })) as Reply;
    assert.equal(d.ok, true, JSON.stringify(d));
    try {
      const dh = await hostConfig(name);
      assert.deepEqual([dh.Memory, dh.PidsLimit, dh.LogConfig?.Config['max-file']], [512 * MiB, 512, '3']);
    } finally {
      await engine.containers.remove(name, { force: true });
    }
  });

  it('asks above the policy maximum are refused, naming the field, before anything is made', async () => {
    const asks: [Record<string, unknown>, string][] = [
      [{ memory: '16g' }, 'resources.memory'],
      [{ cpus: 128 }, 'resources.cpus'],
      [{ pids_limit: 100_000 }, 'resources.pids_limit'],
    ];
    const before = (await engine.containers.list({ all: true, labels })).length;
    for (const [resources, field] of asks) {
      const r = (await client.request('start_container.create', { image: TEST_IMAGE, command: 'sleep 30', labels, resources })) as Reply;
      assert.equal(r.error?.code, 'policy_denied', JSON.stringify(r));
      assert.equal(r.error?.field, field);
      assert.match(r.error?.message ?? '', /maximum/);
    }
    assert.equal((await engine.containers.list({ all: true, labels })).length, before);
  });
});
