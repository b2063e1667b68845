/**
 * Stream limits from the policy file on a real agent, broker and engine: a policy with a small
 * `stream_bytes` and `stream_chunk_bytes` cuts the live output at its own numbers, with the
 * documented truncated chunk, while the final envelope still carries all the output.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LABEL } from '../../../src/domain/labels.js';
import type { AgentProcess } from '../../../src/app/agent-process.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine } from '../../helpers/docker.js';
import { TestClient, startTestAgent, tempDir } from '../../helpers/agent.js';

const engine = testEngine();
const runId = newRunId();
const labels = { [LABEL.test]: runId };
const STREAM_BYTES = 3000;
const CHUNK_BYTES = 1000;
let agent: AgentProcess;
let client: TestClient;

type Msg = Record<string, unknown>;
const isChunk = (m: Msg) => typeof m.seq === 'number' && !('ok' in m);

describe('stream limits from the policy', () => {
  before(async () => {
    const policyFile = join(tempDir('stream-policy'), 'policy.yaml');
    writeFileSync(policyFile, `default_limits: { stream_bytes: ${STREAM_BYTES}, stream_chunk_bytes: ${CHUNK_BYTES}, stream_chunks_per_second: 50 }\n`);
    agent = await startTestAgent({ policyFile });
    client = await TestClient.connect();
  });
  after(async () => {
    await client?.close();
    await agent?.stop();
    await removeTestContainers(engine, runId);
  });

  it('past the policy stream_bytes: chunks of at most stream_chunk_bytes, one truncated chunk, then the envelope with all the output', async () => {
    const total = 10_000;
    const channel = `stream-policy-${runId}`;
    const inbox = await client.collect(channel);
    let all: Msg[];
    try {
      await client.send('start_container.response_channel', { image: TEST_IMAGE, response_channel: channel, labels, stream: true, command: ['sh', '-c', `yes x | head -c ${total}; echo done >&2`] });
      all = await eventually('final envelope', async () => (inbox.json().some((m) => 'ok' in m) ? inbox.json() : undefined), 60_000);
    } finally {
      await inbox.stop();
    }
    const envelope = all.find((m) => 'ok' in m)!;
    assert.equal(envelope.exit_code, 0, JSON.stringify(envelope.error));
    assert.ok(!isChunk(all.at(-1)!), 'the envelope comes after the last chunk');
    const chunks = all.filter(isChunk);
    const data = chunks.filter((c) => !c.truncated);
    assert.deepEqual(chunks.at(-1), { request_id: envelope.request_id, seq: chunks.length - 1, truncated: true, reason: 'total_bytes', limit_bytes: STREAM_BYTES });
    assert.equal(chunks.filter((c) => c.truncated).length, 1);
    assert.deepEqual(chunks.map((c) => c.seq), chunks.map((_, i) => i));
    assert.equal(data.reduce((n, c) => n + Buffer.byteLength(String(c.data)), 0), STREAM_BYTES);
    assert.ok(data.length >= STREAM_BYTES / CHUNK_BYTES, `${data.length} data chunks`);
    assert.ok(data.every((c) => Buffer.byteLength(String(c.data)) <= CHUNK_BYTES), JSON.stringify(data.map((c) => Buffer.byteLength(String(c.data)))));
    // The bytes counted are both streams' (the order between them is the engine's: stderr's line may come in before the cut).
    const text = (stream: string) => data.filter((c) => c.stream === stream).map((c) => String(c.data)).join('');
    assert.ok(['', 'done\n'].includes(text('stderr')), JSON.stringify(text('stderr')));
    assert.equal(text('stdout'), 'x\n'.repeat(total / 2).slice(0, STREAM_BYTES - text('stderr').length));
    // The stream stopped; the run and its reply did not.
    assert.equal(envelope.stdout, 'x\n'.repeat(total / 2));
    assert.equal(envelope.stdout_bytes, total);
    assert.equal(envelope.stderr, 'done\n');
    assert.deepEqual(envelope.streamed, { chunks: chunks.length, bytes: STREAM_BYTES, truncated: true });
  });
});
