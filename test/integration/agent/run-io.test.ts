/**
 * Live output (stream: true) and stdin on the real engine and broker: chunks before the final
 * envelope, in order with contiguous seq, stdout apart from stderr; the total cap; stdin cold
 * and warm; `bosun send --follow` through the CLI.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LABEL } from '../../../src/domain/labels.js';
import { STREAM_LIMITS } from '../../../src/actions/run-stream.js';
import type { AgentProcess } from '../../../src/app/agent-process.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine, childBound } from '../../helpers/docker.js';
import { AMQP_URL, TestClient, startTestAgent, tempDir } from '../../helpers/agent.js';

const engine = testEngine();
const runId = newRunId();
const labels = { [LABEL.test]: runId };
const warmLabels = { ...labels, 'io-test': 'warm' };
let agent: AgentProcess;
let client: TestClient;
const dir = tempDir('run-io');
const repoRoot = join(import.meta.dirname, '..', '..', '..');

type Msg = Record<string, unknown>;
const isChunk = (m: Msg) => typeof m.seq === 'number' && !('ok' in m);

/** Sends on a durable response channel and collects every message until the envelope. */
async function streamRun(body: Msg): Promise<{ chunks: Msg[]; envelope: Msg; all: Msg[] }> {
  const channel = `io-${runId}-${Math.random().toString(36).slice(2, 8)}`;
  const inbox = await client.collect(channel);
  try {
    await client.send('start_container.response_channel', { image: TEST_IMAGE, response_channel: channel, labels, stream: true, ...body });
    const all = await eventually('final envelope', async () => (inbox.json().some((m) => 'ok' in m) ? inbox.json() : undefined), 60_000);
    return { all, chunks: all.filter(isChunk), envelope: all.find((m) => 'ok' in m)! };
  } finally {
    await inbox.stop();
  }
}

const text = (chunks: Msg[], stream: string) => chunks.filter((c) => c.stream === stream).map((c) => String(c.data)).join('');

describe('live output and stdin', () => {
  before(async () => {
    const pools = join(dir, 'pools.yaml');
    writeFileSync(pools, `pools:\n  - name: io\n    image: ${TEST_IMAGE}\n    size: 1\n    match:\n      labels: { ${LABEL.test}: ${runId}, io-test: warm }\n`);
    agent = await startTestAgent({ poolsFile: pools });
    client = await TestClient.connect();
  });
  after(async () => {
    await client?.close();
    await agent?.stop();
    await removeTestContainers(engine, runId);
  });

  it('stream: true — five lines with sleeps arrive as chunks before the envelope, in order, seq contiguous, stderr apart', async () => {
    const script = 'for i in 1 2 3 4 5; do echo line $i; sleep 0.4; done; echo warn >&2';
    const { all, chunks, envelope } = await streamRun({ command: ['sh', '-c', script] });
    assert.equal(envelope.ok, true, JSON.stringify(envelope));
    assert.equal(all.at(-1), envelope, 'the envelope comes last');
    // Live, not gathered at the end: the lines, written 0.4 s apart, arrive in more than one chunk.
    assert.ok(chunks.filter((c) => c.stream === 'stdout').length >= 2, `${chunks.length} chunks: ${JSON.stringify(chunks)}`);
    assert.deepEqual(chunks.map((c) => c.seq), chunks.map((_, i) => i), 'seq 0, 1, 2, … in arrival order');
    assert.ok(chunks.every((c) => c.request_id === envelope.request_id));
    assert.equal(text(chunks, 'stdout'), 'line 1\nline 2\nline 3\nline 4\nline 5\n');
    assert.equal(text(chunks, 'stderr'), 'warn\n');
    assert.deepEqual(envelope.streamed, { chunks: chunks.length, bytes: 40, truncated: false });
    assert.equal(envelope.stdout, 'line 1\nline 2\nline 3\nline 4\nline 5\n');
  });

  it('past the total cap: the first 1 MiB as chunks of at most 16 KiB, then one truncated chunk; the run itself goes on', async () => {
    const total = STREAM_LIMITS.totalBytes + 300_000;
    const { chunks, envelope } = await streamRun({ command: ['sh', '-c', `yes x | head -c ${total}; echo done >&2`] });
    assert.equal(envelope.exit_code, 0, JSON.stringify(envelope.error));
    const data = chunks.filter((c) => !c.truncated);
    const last = chunks.at(-1)!;
    assert.deepEqual(last, { request_id: envelope.request_id, seq: chunks.length - 1, truncated: true, reason: 'total_bytes', limit_bytes: STREAM_LIMITS.totalBytes });
    assert.equal(chunks.filter((c) => c.truncated).length, 1);
    assert.equal(data.reduce((n, c) => n + Buffer.byteLength(String(c.data)), 0), STREAM_LIMITS.totalBytes);
    assert.ok(data.every((c) => Buffer.byteLength(String(c.data)) <= STREAM_LIMITS.chunkBytes));
    assert.equal(envelope.stdout_bytes, total);
    assert.deepEqual(envelope.streamed, { chunks: chunks.length, bytes: STREAM_LIMITS.totalBytes, truncated: true });
  });

  it('stdin, cold: written to the container, which reads it to EOF', async () => {
    const r = await client.request('start_container.response_channel', { image: TEST_IMAGE, command: ['sh', '-c', 'cat; echo; echo end'], stdin: '{"n": 1}', response_channel: `io-${runId}-sink`, labels, warm: false });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.warm, false);
    assert.equal(r.stdout, '{"n": 1}\nend\n');
  });

  it('stdin and stream, warm: the exec in the prewarmed container gets both', async () => {
    await eventually('pool filled', async () => (await engine.containers.list({ labels: { ...labels, [LABEL.pool]: 'io' } })).some((c) => c.status === 'running' && c.name.startsWith('bosun-pool-')) || undefined, 30_000);
    const { chunks, envelope } = await streamRun({ labels: warmLabels, command: ['sh', '-c', 'cat; echo; echo err >&2'], stdin: 'warm input' });
    assert.equal(envelope.warm, true, JSON.stringify(envelope));
    assert.equal(envelope.stdout, 'warm input\n');
    assert.equal(text(chunks, 'stdout'), 'warm input\n');
    assert.equal(text(chunks, 'stderr'), 'err\n');
  });

  it('bosun send --follow prints the chunks live (stdout and stderr apart), then the envelope, and exits with the run\'s code', async () => {
    const body = JSON.stringify({ image: TEST_IMAGE, command: ['sh', '-c', 'echo one; sleep 0.4; echo two >&2; sleep 0.4; echo three; exit 3'], response_channel: `io-${runId}-cli`, labels, stream: true });
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/app/cli.ts'), 'send', 'start_container.response_channel', body, '--follow', '--timeout', '60'], {
      cwd: repoRoot, env: { ...process.env, BOSUN_BROKER_URL: AMQP_URL }, stdio: ['ignore', 'pipe', 'pipe'],
      // Its --timeout bounds the wait for the reply, not an exit that never comes after it.
      ...childBound(),
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 3, `stdout: ${out}\nstderr: ${err}`);
    assert.equal(out, 'one\nthree\n');
    const lines = err.split('\n').filter(Boolean);
    assert.equal(lines[0], 'two');
    const envelope = JSON.parse(lines.at(-1)!) as Msg;
    assert.equal(envelope.exit_code, 3);
    assert.equal(envelope.stdout, undefined, 'the envelope printed without the output it repeats');
    assert.equal((envelope.streamed as { chunks: number }).chunks, 3);
  });
});
