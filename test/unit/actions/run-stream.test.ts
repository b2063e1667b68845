/** The live-output streamer's bounds, on driven timers: order, coalescing, chunk size, rate, total cap, backlog, a failing publish. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OutputStreamer, splitAt, type StreamChunk, type StreamLimits, type StreamTimers } from '../../../src/actions/run-stream.js';

const flushMicrotasks = () => new Promise((r) => setImmediate(r));

/** Timers that run only when the test advances time. */
function drivenTimers() {
  let t = 0;
  let timers: { at: number; fn: () => void }[] = [];
  const api: StreamTimers = {
    now: () => t,
    after(ms, fn) {
      const entry = { at: t + ms, fn };
      timers.push(entry);
      return () => void (timers = timers.filter((x) => x !== entry));
    },
  };
  /** Fires what falls due, in time order, letting each publish run before the next timer. */
  const advance = async (ms: number) => {
    const end = t + ms;
    for (;;) {
      const due = timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      timers = timers.filter((x) => x !== due);
      t = due.at;
      due.fn();
      await flushMicrotasks();
    }
    t = end;
  };
  return { api, advance, pending: () => timers.length };
}

function setup(limits: { limits?: Partial<StreamLimits> } = {}) {
  const timers = drivenTimers();
  const sent: { at: number; chunk: StreamChunk }[] = [];
  const s = new OutputStreamer('r1', async (chunk) => void sent.push({ at: timers.api.now(), chunk }), { timers: timers.api, ...limits });
  const out = (text: string) => s.onOutput({ stream: 'stdout', data: Buffer.from(text) });
  const err = (text: string) => s.onOutput({ stream: 'stderr', data: Buffer.from(text) });
  return { s, sent, out, err, ...timers };
}


describe('OutputStreamer', () => {
  it('coalesces output of one window into one chunk per stream run, in order, seq from 0', async () => {
    const { s, sent, out, err, advance } = setup();
    out('a\n');
    out('b\n');
    err('e\n');
    out('c\n');
    assert.equal(sent.length, 0, 'nothing before the window ends');
    await advance(50);
    await flushMicrotasks();
    assert.deepEqual(sent.map((x) => x.chunk), [
      { request_id: 'r1', seq: 0, stream: 'stdout', data: 'a\nb\n' },
      { request_id: 'r1', seq: 1, stream: 'stderr', data: 'e\n' },
      { request_id: 'r1', seq: 2, stream: 'stdout', data: 'c\n' },
    ]);
    out('later\n');
    await advance(50);
    assert.deepEqual(await s.finish(), { chunks: 4, bytes: 14, truncated: false });
    assert.deepEqual(sent.map((x) => x.chunk.seq), [0, 1, 2, 3]);
  });

  it('keeps to chunksPerSecond in any second while the run goes on; output coming faster waits and is coalesced', async () => {
    const { s, sent, out, err, advance } = setup({ limits: { chunksPerSecond: 4, windowMs: 10 } });
    for (let i = 0; i < 40; i++) {
      (i % 2 ? err : out)(`${i}\n`);
      await advance(10);
    }
    await advance(5_000);
    for (const [i, x] of sent.entries()) {
      const inWindow = sent.filter((y) => y.at > x.at - 1000 && y.at <= x.at).length;
      assert.ok(inWindow <= 4, `chunk ${i}: ${inWindow} chunks in the second before it`);
    }
    assert.ok(sent.length >= 20 && sent.length <= 24, `${sent.length} chunks in 5.4 s at 4/s`);
    // The run ends: what still waits goes out at once, in order.
    await s.finish();
    const text = (stream: string) => sent.map((x) => x.chunk).filter((c) => 'data' in c && c.stream === stream).map((c) => ('data' in c ? c.data : '')).join('');
    assert.equal(text('stdout'), Array.from({ length: 20 }, (_, i) => `${i * 2}\n`).join(''));
    assert.equal(text('stderr'), Array.from({ length: 20 }, (_, i) => `${i * 2 + 1}\n`).join(''));
  });

  it('pieces of one stream arriving faster than the rate are coalesced into fewer chunks', async () => {
    const { s, sent, out, advance } = setup({ limits: { chunksPerSecond: 2, windowMs: 10 } });
    for (let i = 0; i < 30; i++) {
      out(`${i}\n`);
      await advance(50);
    }
    await s.finish();
    assert.ok(sent.length <= 5, `${sent.length} chunks for 30 pieces in 1.5 s at 2/s`);
    assert.equal(sent.map((x) => ('data' in x.chunk ? x.chunk.data : '')).join(''), Array.from({ length: 30 }, (_, i) => `${i}\n`).join(''));
  });

  it('cuts chunks at chunkBytes, after a newline when one is in reach, never inside a character', async () => {
    assert.deepEqual(splitAt('abc\ndefgh', 6), ['abc\n', 'defgh']);
    assert.deepEqual(splitAt('abcdefgh', 3), ['abc', 'defgh']);
    assert.deepEqual(splitAt('ééé', 5), ['éé', 'é']);
    const { s, sent, out } = setup({ limits: { chunkBytes: 8 } });
    out('12345678901234567890');
    const summary = await s.finish();
    assert.deepEqual(sent.map((x) => ('data' in x.chunk ? x.chunk.data : '')), ['12345678', '90123456', '7890']);
    assert.equal(summary.chunks, 3);
  });

  it('a character split between two engine pieces arrives whole', async () => {
    const { s, sent, advance } = setup();
    const e = Buffer.from('é');
    s.onOutput({ stream: 'stdout', data: e.subarray(0, 1) });
    await advance(50);
    s.onOutput({ stream: 'stdout', data: e.subarray(1) });
    await s.finish();
    assert.deepEqual(sent.map((x) => ('data' in x.chunk ? x.chunk.data : '')), ['é']);
  });

  it('past totalBytes: the data up to the cap, one truncated chunk, then nothing more', async () => {
    const { s, sent, out, advance } = setup({ limits: { totalBytes: 10 } });
    out('0123456');
    out('789abc');
    out('never');
    await advance(1_000);
    out('never either');
    const summary = await s.finish();
    assert.deepEqual(sent.map((x) => x.chunk), [
      { request_id: 'r1', seq: 0, stream: 'stdout', data: '0123456789' },
      { request_id: 'r1', seq: 1, truncated: true, reason: 'total_bytes', limit_bytes: 10 },
    ]);
    assert.deepEqual(summary, { chunks: 2, bytes: 10, truncated: true });
  });

  it('a backlog past pendingPieces is cut the same way (a reader that cannot keep up)', async () => {
    const { s, sent, out, err } = setup({ limits: { pendingPieces: 3 } });
    out('1');
    err('2');
    out('3');
    err('4');
    const summary = await s.finish();
    assert.deepEqual(sent.map((x) => x.chunk).at(-1), { request_id: 'r1', seq: 3, truncated: true, reason: 'backlog', limit_bytes: 1024 * 1024 });
    assert.equal(summary.truncated, true);
  });

  it('a publish that fails stops the stream; the summary counts what went out', async () => {
    const timers = drivenTimers();
    let n = 0;
    const errors: unknown[] = [];
    const s = new OutputStreamer('r1', async () => {
      if (++n === 2) throw new Error('channel closed');
    }, { timers: timers.api, onError: (e) => errors.push(e), limits: { windowMs: 1 } });
    for (const t of ['a', 'b', 'c']) {
      s.onOutput({ stream: 'stdout', data: Buffer.from(t) });
      await timers.advance(100);
      await flushMicrotasks();
    }
    assert.deepEqual(await s.finish(), { chunks: 1, bytes: 1, truncated: false });
    assert.equal(n, 2, 'nothing is tried after the failure');
    assert.equal(errors.length, 1);
  });

  it('abort: nothing more is published and no timer is left', async () => {
    const { s, sent, out, pending } = setup();
    out('x');
    s.abort();
    assert.equal(pending(), 0);
    assert.deepEqual(await s.finish(), { chunks: 0, bytes: 0, truncated: false });
    assert.equal(sent.length, 0);
  });
});
