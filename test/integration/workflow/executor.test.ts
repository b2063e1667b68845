/**
 * The durable executor on a real store (PGlite; the takeover test also on PostgreSQL): chains
 * with Wait and Retry, resume after the executor went away (same task token re-run, Wait
 * timer kept), cancel, and two executors sharing one store without deciding twice.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SqlWorkflowStore } from '../../../src/adapters/store-sql/workflow-store.js';
import { openWorkflowStore } from '../../../src/adapters/store-sql/workflow-store.js';
import type { Definition } from '../../../src/workflow/definition.js';
import { DurableExecutor } from '../../../src/workflow/durable/executor.js';
import { startExecution } from '../../../src/workflow/durable/start.js';
import { waitForEnd } from '../../helpers/workflow.js';
import type { TaskContext, TaskOutcome, TaskRunner } from '../../../src/workflow/durable/tasks.js';
import type { Json } from '../../../src/workflow/json.js';
import { BACKENDS, openTestStore, storeLocation } from './stores.js';

const def = (d: unknown): Definition => d as Definition;

/** A runner that adds 1 to `$.n`, or fails the first `failFirst` attempts, or waits to be released. */
class CountingRunner implements TaskRunner {
  readonly calls: { executionId: string; token: string; attempt: number }[] = [];
  readonly holds = new Map<string, (o: TaskOutcome) => void>();
  hold = false;
  failFirst = 0;
  async run(ctx: TaskContext): Promise<TaskOutcome> {
    this.calls.push({ executionId: ctx.executionId, token: ctx.command.token, attempt: ctx.command.attempt });
    if (this.failFirst >= ctx.command.attempt) return { ok: false, error: 'bosun.NonZeroExit', cause: 'exit 1' };
    const p = ctx.command.parameters as { n: number };
    if (!this.hold) return { ok: true, output: { n: p.n + 1 } };
    return new Promise<TaskOutcome>((resolve) => {
      this.holds.set(ctx.command.token, resolve);
      const gone = (): void => resolve({ ok: false, error: 'gone', cause: 'aborted' });
      ctx.signal.addEventListener('abort', gone);
      ctx.detached.addEventListener('abort', gone);
    });
  }
}

async function until(f: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`never happened: ${what}`);
}

const chain = def({
  StartAt: 'A',
  States: {
    A: { Type: 'Task', Resource: 'bosun:run', Parameters: { 'n.$': '$.n' }, Next: 'W' },
    W: { Type: 'Wait', Seconds: 1, Next: 'B' },
    B: { Type: 'Task', Resource: 'bosun:run', Parameters: { 'n.$': '$.n' }, Retry: [{ ErrorEquals: ['bosun.NonZeroExit'], IntervalSeconds: 1, MaxAttempts: 2 }], End: true },
  },
});

describe('durable executor on pglite', () => {
  let store: SqlWorkflowStore;
  let close: () => Promise<void>;
  before(async () => ({ store, close } = await openTestStore('pglite')));
  after(async () => close());

  test('a chain with a Wait and a retried task completes; every step is in the history', async () => {
    const runner = new CountingRunner();
    const ex = new DurableExecutor({ store, owner: 'a1', runners: { 'bosun:run': runner }, pollMs: 50 });
    ex.start();
    try {
      const { record } = await startExecution(store, { definition: chain, input: { n: 1 } });
      ex.kick();
      const done = await waitForEnd(store, record.id);
      assert.equal(done.status, 'SUCCEEDED');
      assert.deepEqual(done.state?.output, { n: 3 });
      const types = (await store.history(record.id)).map((h) => h.type);
      assert.ok(types.includes('WaitStarted') && types.includes('TimerFired'), types.join(','));
      assert.equal(types.at(-1), 'ExecutionSucceeded');
    } finally {
      await ex.stop();
    }
  });

  test('retry back-off is a timer row; the task is re-run under a new token', async () => {
    const runner = new CountingRunner();
    runner.failFirst = 1;
    const ex = new DurableExecutor({ store, owner: 'a2', runners: { 'bosun:run': runner }, pollMs: 50 });
    ex.start();
    try {
      const one = def({ StartAt: 'B', States: { B: (chain as unknown as { States: Record<string, Json> }).States.B } });
      const { record } = await startExecution(store, { definition: one, input: { n: 5 } });
      const done = await waitForEnd(store, record.id);
      assert.equal(done.status, 'SUCCEEDED', JSON.stringify(done.state?.error));
      assert.deepEqual(done.state?.output, { n: 6 });
      const mine = runner.calls.filter((c) => c.executionId === record.id);
      assert.deepEqual(mine.map((c) => c.attempt), [1, 2]);
      assert.notEqual(mine[0]!.token, mine[1]!.token);
      assert.ok((await store.history(record.id)).some((h) => h.type === 'RetryScheduled'));
    } finally {
      await ex.stop();
    }
  });

  test('a second executor resumes: the unreported task is re-run with the same token, the Wait survives', async () => {
    const runner = new CountingRunner();
    runner.hold = true;
    const first = new DurableExecutor({ store, owner: 'r1', runners: { 'bosun:run': runner }, pollMs: 50 });
    first.start();
    const { record } = await startExecution(store, { definition: chain, input: { n: 10 } });
    await until(() => runner.holds.size === 1, 'task A started');
    await first.stop();
    const tokenA = runner.calls[0]!.token;
    assert.deepEqual(await store.openTasks(record.id).then((t) => t.map((x) => x.token)), [tokenA], 'A is still open in the store');

    const second = new DurableExecutor({ store, owner: 'r2', runners: { 'bosun:run': runner }, pollMs: 50 });
    second.start();
    try {
      await until(() => runner.calls.length === 2, 'A re-run by the second executor');
      assert.equal(runner.calls[1]!.token, tokenA, 'the same token: the runner can adopt what the first one started');
      runner.holds.get(tokenA)!({ ok: true, output: { n: 11 } });
      await until(async () => (await store.history(record.id)).some((h) => h.type === 'WaitStarted'), 'the Wait started');
      await second.stop(); // the Wait's timer row outlives this executor too
      const third = new DurableExecutor({ store, owner: 'r3', runners: { 'bosun:run': runner }, pollMs: 50 });
      runner.hold = false;
      third.start();
      try {
        const done = await waitForEnd(store, record.id);
        assert.equal(done.status, 'SUCCEEDED');
        assert.deepEqual(done.state?.output, { n: 12 });
        assert.equal(runner.calls.filter((c) => c.executionId === record.id).length, 3, 'A twice (same token), B once');
      } finally {
        await third.stop();
      }
    } finally {
      await second.stop();
    }
  });

  test('cancel ends a running execution ABORTED and cancels its task', async () => {
    const runner = new CountingRunner();
    runner.hold = true;
    const ex = new DurableExecutor({ store, owner: 'c1', runners: { 'bosun:run': runner }, pollMs: 50 });
    ex.start();
    try {
      const { record } = await startExecution(store, { definition: chain, input: { n: 1 } });
      await until(() => runner.holds.size === 1, 'task started');
      await store.postEvent(record.id, { type: 'Cancel', cause: 'by test' });
      ex.kick();
      const done = await waitForEnd(store, record.id);
      assert.equal(done.status, 'ABORTED');
      assert.equal(done.state?.cause, 'by test');
      assert.deepEqual(await store.openTasks(record.id), []);
    } finally {
      await ex.stop();
    }
  });
});

for (const backend of BACKENDS) {
  test(`two executors on one ${backend} store: each execution decided by one holder, all complete`, async () => {
    const loc = await storeLocation(backend);
    const storeA = await openWorkflowStore(loc.url);
    // PGlite is one process: both executors share its store; PostgreSQL gets two connections pools.
    const storeB = backend === 'postgres' ? await openWorkflowStore(loc.url) : storeA;
    const runner = new CountingRunner();
    const a = new DurableExecutor({ store: storeA, owner: 'pa', runners: { 'bosun:run': runner }, pollMs: 20, maxExecutions: 3 });
    const b = new DurableExecutor({ store: storeB, owner: 'pb', runners: { 'bosun:run': runner }, pollMs: 20, maxExecutions: 3 });
    try {
      const quick = def({ StartAt: 'A', States: { A: { Type: 'Task', Resource: 'bosun:run', Parameters: { 'n.$': '$.n' }, End: true } } });
      const ids: string[] = [];
      for (let i = 0; i < 8; i++) ids.push((await startExecution(storeA, { definition: quick, input: { n: i } })).record.id);
      a.start();
      b.start();
      for (const [i, id] of ids.entries()) {
        const done = await waitForEnd(storeA, id);
        assert.deepEqual(done.state?.output, { n: i + 1 });
      }
      for (const id of ids) assert.equal(runner.calls.filter((c) => c.executionId === id).length, 1, `one task run for ${id}`);
    } finally {
      await a.stop();
      await b.stop();
      if (storeB !== storeA) await storeB.close();
      await storeA.close();
      await loc.drop();
    }
  });
}
