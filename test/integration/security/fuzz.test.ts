/**
 * The agent fuzz test: ~2,000 seeded messages over every channel the agent consumes, mixing
 * cheap valid-ish messages, malformed bodies, the crash shapes (names/images with `/..`),
 * the poison shapes (ids and reply channels that cannot be published, oversized bodies) and a
 * few real runs. The full 10,000-message run with its figures is bench/fuzz.bench.ts.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newRunId, removeTestContainers, testEngine } from '../../helpers/docker.js';
import { fuzz } from './fuzz-harness.js';

const runId = newRunId();
const N = Number(process.env.BOSUN_FUZZ_N ?? 2000);
const SEED = Number(process.env.BOSUN_FUZZ_SEED ?? 20261201);

describe('agent fuzz', () => {
  after(async () => {
    await removeTestContainers(testEngine(), runId);
  });

  it(`${N} seeded messages (seed ${SEED}): agent stays up, each answered once and parked at most once (rejections exactly once), nothing left queued, RSS bounded`, async () => {
    const r = await fuzz({ n: N, seed: SEED, runId, timeoutMs: 150_000 });
    console.log(JSON.stringify({ ...r, unaccounted: r.unaccounted.slice(0, 10), unaccountedCount: r.unaccounted.length }));
    assert.equal(r.alive, true, 'the agent process is alive');
    assert.equal(r.uncaught, false, 'the agent logged no uncaught/unhandled error');
    assert.equal(r.sent, N);
    assert.deepEqual(r.unaccounted.slice(0, 20), []);
    assert.equal(r.replies, N);
    assert.ok(r.parked > N / 4, `rejections were parked (${r.parked})`);
    assert.deepEqual(r.leftQueued, {});
    assert.ok(r.rssPeakMb - r.rssStartMb < 200, `RSS grew from ${r.rssStartMb.toFixed(0)} to a peak of ${r.rssPeakMb.toFixed(0)} MB`);
  });
});
