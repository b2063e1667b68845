/** The per-agent task bound: never more than max in flight, fair across executions, slots freed on release (failure) and on cancel while waiting. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TaskLimiter, type Release } from '../../../src/workflow/durable/task-limiter.js';

test('a big execution does not starve a small one: slots alternate between waiting executions', async () => {
  const l = new TaskLimiter(2);
  const started: string[] = [];
  const releases: Release[] = [];
  const ask = (exec: string, n: number) => l.acquire(exec).then((r) => { started.push(`${exec}${n}`); releases.push(r); });
  const all = [...Array.from({ length: 6 }, (_, i) => ask('big', i)), ask('small', 0), ask('small', 1)];
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, ['big0', 'big1']);
  assert.equal(l.running, 2);
  assert.equal(l.waiting, 6);
  while (started.length < 8) {
    const r = releases.shift()!;
    r();
    r(); // idempotent: a second release frees nothing more
    await new Promise((res) => setImmediate(res));
    assert.ok(l.running <= 2);
  }
  await Promise.all(all);
  assert.deepEqual(started, ['big0', 'big1', 'big2', 'small0', 'big3', 'small1', 'big4', 'big5']);
  for (const r of releases) r();
  assert.equal(l.running, 0);
  assert.equal(l.waiting, 0);
});

test('a task cancelled while waiting leaves the line without a slot; a failed task releases its slot', async () => {
  const l = new TaskLimiter(1);
  const first = await l.acquire('a');
  const ac = new AbortController();
  const cancelled = l.acquire('b', ac.signal);
  const third = l.acquire('c');
  ac.abort();
  await assert.rejects(cancelled, /cancelled while waiting/);
  assert.equal(l.waiting, 1);
  first(); // e.g. the task failed: its runner's finally releases
  const r = await third;
  assert.equal(l.running, 1);
  r();
  assert.equal(l.running, 0);
  await assert.rejects(l.acquire('d', AbortSignal.abort()), /cancelled/);
  assert.throws(() => new TaskLimiter(0), /at least 1/);
});
