/**
 * Finding 12 (output): an attached run's output is read as it is produced; a flood is stopped
 * once it passes the policy's output_bytes and replied as output_limit with the kept head,
 * and the container's Docker log is rotated (max-size × max-file) meanwhile.
 * Real agent, RabbitMQ and Docker.
 */
import { rawDocker } from '../../../test/helpers/raw-docker.js';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { LABEL } from '../../../src/domain/labels.js';
import type { AgentProcess } from '../../../src/app/agent-process.js';
import { TEST_IMAGE, newRunId, removeTestContainers, testEngine } from '../../helpers/docker.js';
import { TestClient, startTestAgent, tempDir } from '../../helpers/agent.js';

const engine = testEngine();
const runId = newRunId();
const labels = { [LABEL.test]: runId };
const MiB = 1024 * 1024;
let client: TestClient;

type Reply = Record<string, unknown> & { error?: { code: string; field?: string; message: string } };

/** Bytes of the container's json-file log on disk, rotated files included. */
function logBytesOnDisk(logPath: string): number {
  const dir = dirname(logPath);
  return readdirSync(dir).filter((f) => f.startsWith(basename(logPath))).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

async function flood(command: string, channel: string): Promise<{ reply: Reply; ms: number; logPath: string; logConfig: unknown; running: boolean }> {
  const t0 = Date.now();
  // timeout: without the bounded reader the run would go on until it (the code this test was written against replied `timeout`)
  const reply = (await client.request('start_container.response_channel', { image: TEST_IMAGE, command, labels, remove: false, timeout: 120, response_channel: channel }, { timeoutMs: 200_000 })) as Reply;
  const ms = Date.now() - t0;
  const name = String((reply.container as { name: string }).name);
  const d = (await rawDocker().getContainer(name).inspect()) as { LogPath: string; HostConfig: { LogConfig: unknown }; State: { Running: boolean } };
  return { reply, ms, logPath: d.LogPath, logConfig: d.HostConfig.LogConfig, running: d.State.Running };
}

describe('attached output is bounded (default policy: 64m)', () => {
  let agent: AgentProcess;
  before(async () => {
    agent = await startTestAgent();
    client = await TestClient.connect();
  });
  after(async () => {
    await agent.stop();
    await removeTestContainers(engine, runId);
  });

  it('a stdout flood is stopped with output_limit, the head kept, the Docker log rotated', async () => {
    const line = 'x'.repeat(1000);
    const f = await flood(`yes ${line}`, `out-${runId}-flood`);
    const r = f.reply;
    console.log(`# flood of 1 kB lines: reply after ${f.ms} ms, ${r.stdout_bytes} bytes read, ${logBytesOnDisk(f.logPath)} bytes of Docker log on disk`);
    assert.equal(r.ok, false);
    assert.equal(r.error?.code, 'output_limit', JSON.stringify(r.error));
    assert.equal(r.truncated, true);
    assert.equal(String(r.stdout).length, MiB, 'the reply keeps 1 MiB of stdout');
    assert.ok(String(r.stdout).startsWith(`${line}\n${line}\n`));
    assert.ok(Number(r.stdout_bytes) > 64 * MiB && Number(r.stdout_bytes) < 80 * MiB, `stdout_bytes ${r.stdout_bytes}`);
    assert.equal(r.exit_code, undefined);
    assert.equal(f.running, false, 'the container was stopped');
    assert.deepEqual(f.logConfig, { Type: 'json-file', Config: { 'max-size': String(10 * MiB), 'max-file': '3' } });
    assert.ok(logBytesOnDisk(f.logPath) <= 3 * 10 * MiB + MiB, `log on disk: ${logBytesOnDisk(f.logPath)} bytes`);
    assert.ok(f.ms < 90_000, `the reply took ${f.ms} ms`);
  });

  it('output below the limit is replied whole, as before', async () => {
    const r = (await client.request('start_container.response_channel', { image: TEST_IMAGE, command: 'sh -c "seq 1 20000; echo err >&2"', labels, response_channel: `out-${runId}-small` })) as Reply;
    assert.equal(r.ok, true, JSON.stringify(r.error));
    assert.equal(r.stdout_bytes, String(r.stdout).length);
    assert.ok(String(r.stdout).endsWith('19999\n20000\n'));
    assert.equal(r.stderr, 'err\n');
    assert.equal(r.truncated, false);
  });
});

describe('a policy output_bytes of 512k stops `yes` (2-byte lines, the costliest for the daemon)', () => {
  let agent: AgentProcess;
  before(async () => {
    const dir = tempDir('outpol');
    writeFileSync(join(dir, 'policy.yaml'), 'default_limits: { output_bytes: 512k, log_max_size: 1m, log_max_file: 2 }\n');
    agent = await startTestAgent({ policyFile: join(dir, 'policy.yaml') });
  });
  after(async () => {
    await agent.stop();
    await client.close();
    await removeTestContainers(engine, runId);
  });

  it('stops the run soon after 512 KiB and keeps the log at max-size × max-file', async () => {
    const f = await flood('yes', `out-${runId}-yes`);
    const r = f.reply;
    console.log(`# yes: reply after ${f.ms} ms, ${r.stdout_bytes} bytes read, ${logBytesOnDisk(f.logPath)} bytes of Docker log on disk`);
    assert.equal(r.error?.code, 'output_limit', JSON.stringify(r.error));
    assert.ok(Number(r.stdout_bytes) > 512 * 1024, `stdout_bytes ${r.stdout_bytes}`);
    assert.match(String(r.stdout), /^(y\n)+$/);
    assert.deepEqual(f.logConfig, { Type: 'json-file', Config: { 'max-size': String(MiB), 'max-file': '2' } });
    assert.ok(logBytesOnDisk(f.logPath) <= 2 * MiB + 256 * 1024, `log on disk: ${logBytesOnDisk(f.logPath)} bytes`);
    assert.ok(f.ms < 60_000, `the reply took ${f.ms} ms`);
  });
});
