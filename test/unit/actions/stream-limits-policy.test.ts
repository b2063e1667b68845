/** Pure: a stream: true run's chunk size, rate and total come from the policy (default_limits, never above max_limits, per publisher). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_POLICY, PolicySchema } from '../../../src/domain/policy.js';
import { streamLimits } from '../../../src/domain/policy/limits.js';
import { policyFor } from '../../../src/domain/policy/publishers.js';
import { STREAM_LIMITS } from '../../../src/actions/run-stream.js';

describe('streamLimits', () => {
  it('the built-in policy gives the built-in stream constants', () => {
    assert.deepEqual(streamLimits(DEFAULT_POLICY), { chunkBytes: STREAM_LIMITS.chunkBytes, chunksPerSecond: STREAM_LIMITS.chunksPerSecond, totalBytes: STREAM_LIMITS.totalBytes });
  });

  it('a policy file setting one key keeps the built-in value of the others (sizes as text or numbers)', () => {
    const p = PolicySchema.parse({ default_limits: { stream_bytes: '4k' } });
    assert.deepEqual(streamLimits(p), { chunkBytes: 16 * 1024, chunksPerSecond: 20, totalBytes: 4096 });
    assert.equal(streamLimits(PolicySchema.parse({ default_limits: { stream_chunk_bytes: 1000 } })).chunkBytes, 1000);
  });

  it('a default above the maximum is held at the maximum, key by key', () => {
    const p = PolicySchema.parse({
      default_limits: { stream_chunk_bytes: '64k', stream_chunks_per_second: 500, stream_bytes: '10m' },
      max_limits: { stream_chunk_bytes: '32k', stream_chunks_per_second: 100 },
    });
    assert.deepEqual(streamLimits(p), { chunkBytes: 32 * 1024, chunksPerSecond: 100, totalBytes: 10 * 1024 * 1024 });
  });

  it('a chunk holds at least one UTF-8 character (4 bytes)', () => {
    assert.equal(streamLimits(PolicySchema.parse({ default_limits: { stream_chunk_bytes: 1 } })).chunkBytes, 4);
  });

  it('per publisher through users: own limits merge over the base, others keep the base', () => {
    const p = PolicySchema.parse({ default_limits: { stream_bytes: '2m' }, users: { ci: { default_limits: { stream_bytes: '8k' } }, ops: {} } });
    assert.deepEqual(streamLimits(policyFor(p, 'ci')), { chunkBytes: 16 * 1024, chunksPerSecond: 20, totalBytes: 8 * 1024 });
    assert.equal(streamLimits(policyFor(p, 'ops')).totalBytes, 2 * 1024 * 1024);
  });

  it('a bad value is refused when the policy file is read, naming the field', () => {
    for (const bad of [{ stream_chunks_per_second: 0 }, { stream_chunks_per_second: 1.5 }, { stream_bytes: 'lots' }, { stream_chunk_bytes: -1 }]) {
      const r = PolicySchema.safeParse({ default_limits: bad });
      assert.equal(r.success, false, JSON.stringify(bad));
      assert.deepEqual(r.error?.issues[0]?.path.slice(0, 2), ['default_limits', Object.keys(bad)[0]]);
    }
  });
});
