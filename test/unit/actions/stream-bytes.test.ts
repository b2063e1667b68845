/** Review #2: the stream's total cap holds for output that is not UTF-8 (it became U+FFFD, 3 bytes each, counted as 1). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OutputStreamer, STREAM_LIMITS, type StreamChunk } from '../../../src/actions/run-stream.js';

describe('review-2: stream bounds with output that is not UTF-8', () => {
  it('1 MiB of 0xff bytes streams at most totalBytes of data, then one truncated chunk', async () => {
    const sent: StreamChunk[] = [];
    const s = new OutputStreamer('r1', async (c) => void sent.push(c), { timers: { now: () => 0, after: () => () => undefined } });
    const raw = Buffer.alloc(STREAM_LIMITS.totalBytes, 0xff);
    for (let i = 0; i < raw.length; i += 64 * 1024) s.onOutput({ stream: 'stdout', data: raw.subarray(i, i + 64 * 1024) });
    const summary = await s.finish();
    const published = sent.reduce((n, c) => n + ('data' in c ? Buffer.byteLength(c.data) : 0), 0);
    assert.ok(sent.length > 1 && 'data' in sent[0]!, 'handled: the output was streamed');
    assert.equal(summary.bytes, published);
    assert.ok(published <= STREAM_LIMITS.totalBytes, `published ${published} bytes of data against a ${STREAM_LIMITS.totalBytes} cap (main: 3,145,728)`);
    assert.equal(summary.truncated, true);
    assert.equal(sent.filter((c) => 'truncated' in c).length, 1);
  });

  it('a character cut by the end of output still counts: a lone lead byte at exit stays within the cap', async () => {
    const sent: StreamChunk[] = [];
    const s = new OutputStreamer('r2', async (c) => void sent.push(c), { limits: { totalBytes: 4 }, timers: { now: () => 0, after: () => () => undefined } });
    s.onOutput({ stream: 'stdout', data: Buffer.from([0x61, 0x62, 0x63, 0xe2]) });
    const summary = await s.finish();
    assert.ok(summary.bytes <= 4, `streamed ${summary.bytes} bytes with a 4-byte cap`);
    assert.equal(summary.truncated, true, 'the U+FFFD the lone byte became did not fit');
  });
});
