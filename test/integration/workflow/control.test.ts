/**
 * Cancel, pause/resume, redrive and a throwing decision, through operations.ts and the durable
 * executor, on PGlite and PostgreSQL (task runners are fakes here; control-docker.test.ts runs
 * bosun:run containers on the real engine).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SqlWorkflowStore } from '../../../src/adapters/store-sql/workflow-store.js';
import { isBosunError } from '../../../src/domain/errors.js';
import type { Definition } from '../../../src/workflow/definition.js';
import { DurableExecutor } from '../../../src/workflow/durable/executor.js';
import { cancelExecution, pauseExecution, redriveExecution, resumeExecution } from '../../../src/workflow/durable/operations.js';
import { startExecution } from '../../../src/workflow/durable/start.js';
import { waitForEnd } from '../../helpers/workflow.js';
import type { TaskContext, TaskOutcome, TaskRunner } from '../../../src/workflow/durable/tasks.js';
import { BACKENDS, openTestStore } from './stores.js';

const def = (d: unknown): Definition => d as Definition;

/** Succeeds with `{done: <state>}`; states named in `failing` fail; states in `held` wait for `release`. */
class ScriptedRunner implements TaskRunner {
  readonly calls: string[] = [];
  readonly failing = new Set<string>();
  readonly held = new Set<string>();
  readonly waiting = new Map<string, () => void>();
  readonly aborted: string[] = [];
  async run(ctx: TaskContext): Promise<TaskOutcome> {
    const state = ctx.command.state;
    this.calls.push(state);
    if (this.held.has(state)) {
      const gone = await new Promise<boolean>((resolve) => {
        this.waiting.set(state, () => resolve(false));
        ctx.signal.addEventListener('abort', () => resolve(true), { once: true });
        ctx.detached.addEventListener('abort', () => resolve(true), { once: true });
      });
      this.waiting.delete(state);
      if (gone) { if (ctx.signal.aborted) this.aborted.push(state); return { ok: false, error: 'gone', cause: 'aborted' }; }
    }
    if (this.failing.has(state)) return { ok: false, error: 'bosun.NonZeroExit', cause: `${state} failed` };
    return { ok: true, output: { done: state } };
  }
}

async function until(f: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`never happened: ${what}`);
}

const task = (next?: string) => ({ Type: 'Task', Resource: 'bosun:run', Parameters: {}, ResultPath: null, ...(next ? { Next: next } : { End: true }) });

for (const backend of BACKENDS) {
  describe(`workflow control on ${backend}`, () => {
    let store: SqlWorkflowStore;
    let close: () => Promise<void>;
    let ex: DurableExecutor;
    const runner = new ScriptedRunner();
    before(async () => {
      ({ store, close } = await openTestStore(backend));
      ex = new DurableExecutor({ store, owner: `ctl-${backend}`, runners: { 'bosun:run': runner }, pollMs: 50, leaseMs: 5_000 });
      ex.start();
    });
    after(async () => {
      await ex.stop();
      await close();
    });
    const types = async (id: string): Promise<string[]> => (await store.history(id)).map((h) => h.type);
    const status = async (id: string): Promise<string | undefined> => (await store.getExecution(id))?.status;
    /** No executor can take it: the claim rule itself leaves a paused execution alone. */
    const unclaimable = async (id: string): Promise<void> => assert.deepEqual(await store.claimExecutions('probe', 1_000, 10, { ids: [id] }), []);

    test('unknown ids and operations that do not fit the status are refused, and nothing is recorded', async () => {
      const { record } = await startExecution(store, { definition: def({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }), input: {} });
      ex.kick();
      assert.equal((await waitForEnd(store, record.id)).status, 'SUCCEEDED');
      const codeOf = async (p: Promise<unknown>): Promise<string> => p.then(() => 'resolved', (e: unknown) => (isBosunError(e) ? `${e.code}:${e.field ?? ''}` : String(e)));
      assert.equal(await codeOf(pauseExecution(store, 'no-such-execution')), 'not_found:execution_id');
      assert.equal(await codeOf(cancelExecution(store, record.id)), 'conflict:execution_id');
      assert.equal(await codeOf(pauseExecution(store, record.id)), 'conflict:execution_id');
      assert.equal(await codeOf(resumeExecution(store, record.id)), 'conflict:execution_id');
      assert.equal(await codeOf(redriveExecution(store, record.id)), 'conflict:execution_id');
      assert.equal(await store.nextEvent(record.id), undefined, 'no control event reached the inbox');
      const after = await store.getExecution(record.id);
      assert.deepEqual({ status: after?.status, redriveCount: after?.redriveCount }, { status: 'SUCCEEDED', redriveCount: 0 });
    });

    test('pause: a task report and a due timer wait while paused and are decided on resume', async () => {
      runner.held.add('A1');
      const { record } = await startExecution(store, {
        definition: def({ StartAt: 'A1', States: { A1: task('W'), W: { Type: 'Wait', Seconds: 1, Next: 'B1' }, B1: task() } }), input: {},
      });
      ex.kick();
      await until(() => runner.waiting.has('A1'), 'A1 running');
      const asked = await pauseExecution(store, record.id);
      assert.equal(asked.status, 'RUNNING', 'the request is recorded; the holder carries it out');
      await until(async () => (await status(record.id)) === 'PAUSED' && (await store.getExecution(record.id))?.leaseOwner === undefined, 'paused, lease let go');
      assert.equal(await codeOfPause(), 'conflict', 'pausing a paused execution is refused');
      runner.waiting.get('A1')!();
      await until(async () => (await store.nextEvent(record.id))?.event.type === 'TaskSucceeded', 'the report of A1 waits in the inbox');
      await unclaimable(record.id);
      assert.ok(!(await types(record.id)).includes('TaskSucceeded'), 'the report was not decided while paused');
      assert.equal(runner.aborted.length, 0, 'the running task was left to finish');

      await resumeExecution(store, record.id);
      await until(async () => (await types(record.id)).includes('WaitStarted'), 'resumed: A1 decided, W started');
      await pauseExecution(store, record.id);
      await until(async () => (await status(record.id)) === 'PAUSED', 'paused in W');
      const waitStarted = (await store.history(record.id)).find((h) => h.type === 'WaitStarted')!;
      const dueAt = Date.parse(String(waitStarted.event.until));
      await until(() => Date.now() > dueAt + 200, 'W fell due while paused');
      await unclaimable(record.id);
      assert.ok(!(await types(record.id)).includes('TimerFired'), 'a due timer does not fire while paused');
      await resumeExecution(store, record.id);
      const done = await waitForEnd(store, record.id);
      assert.equal(done.status, 'SUCCEEDED');
      const t = await types(record.id);
      const at = (type: string, from = 0): number => t.indexOf(type, from);
      assert.ok(at('ExecutionPaused') < at('ExecutionResumed') && at('ExecutionResumed') < at('TaskSucceeded'), t.join(','));
      const secondPause = at('ExecutionPaused', at('ExecutionResumed'));
      assert.ok(secondPause > 0 && secondPause < at('TimerFired') && at('ExecutionResumed', secondPause) < at('TimerFired'), t.join(','));

      async function codeOfPause(): Promise<string> {
        return pauseExecution(store, record.id).then(() => 'resolved', (e: unknown) => (isBosunError(e) ? e.code : String(e)));
      }
    });

    test('cancel of a paused execution: it is claimed for the Cancel alone, its running task is aborted, it ends ABORTED', async () => {
      runner.held.add('C1');
      const { record } = await startExecution(store, { definition: def({ StartAt: 'C1', States: { C1: task('C2'), C2: task() } }), input: {} });
      ex.kick();
      await until(() => runner.waiting.has('C1'), 'C1 running');
      await pauseExecution(store, record.id);
      await until(async () => (await status(record.id)) === 'PAUSED', 'paused');
      await cancelExecution(store, record.id, 'operator says stop');
      const done = await waitForEnd(store, record.id);
      assert.equal(done.status, 'ABORTED');
      assert.equal(done.state?.cause, 'operator says stop');
      await until(() => runner.aborted.includes('C1'), 'C1 aborted');
      const t = await types(record.id);
      assert.ok(t.indexOf('ExecutionPaused') < t.indexOf('ExecutionAborted'), t.join(','));
      assert.ok(!runner.calls.includes('C2'));
    });

    test('redrive: a failed execution restarts at the state that failed; what succeeded is not run again', async () => {
      runner.failing.add('R2');
      const { record } = await startExecution(store, { definition: def({ StartAt: 'R1', States: { R1: task('R2'), R2: task('R3'), R3: task() } }), input: {} });
      ex.kick();
      const failed = await waitForEnd(store, record.id);
      assert.equal(failed.status, 'FAILED');
      runner.failing.delete('R2');
      const asked = await redriveExecution(store, record.id);
      assert.deepEqual({ status: asked.status, redriveCount: asked.redriveCount }, { status: 'RUNNING', redriveCount: 1 });
      ex.kick();
      const done = await waitForEnd(store, record.id);
      assert.equal(done.status, 'SUCCEEDED', `${done.state?.error}: ${done.state?.cause}`);
      assert.ok(done.fence > failed.fence, 'the redriven execution was claimed again');
      assert.deepEqual(runner.calls.filter((c) => c.startsWith('R')), ['R1', 'R2', 'R2', 'R3']);
      const t = await types(record.id);
      assert.ok(t.indexOf('ExecutionFailed') < t.indexOf('ExecutionRedriven'), t.join(','));
      assert.equal(t.at(-1), 'ExecutionSucceeded');
      const redriven = (await store.history(record.id)).find((h) => h.type === 'ExecutionRedriven')!;
      assert.equal(redriven.event.state, 'R2');
      await assert.rejects(redriveExecution(store, record.id), (e: unknown) => isBosunError(e) && e.code === 'conflict');
    });

    test('a decision that throws fails the execution with States.Runtime; the executor goes on', async () => {
      // Not validated on purpose: StartAt names no state, so deciding the start throws.
      const { record } = await startExecution(store, { definition: def({ StartAt: 'Nope', States: { P: { Type: 'Pass', End: true } } }), input: {} });
      ex.kick();
      const done = await waitForEnd(store, record.id);
      assert.equal(done.status, 'FAILED');
      assert.equal(done.state?.error, 'States.Runtime');
      assert.match(String(done.state?.cause), /no state "Nope"/);
      assert.deepEqual(await types(record.id), ['ExecutionFailed']);
      await assert.rejects(redriveExecution(store, record.id), /before entering its first state/);
      const { record: next } = await startExecution(store, { definition: def({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }), input: {} });
      ex.kick();
      assert.equal((await waitForEnd(store, next.id)).status, 'SUCCEEDED');
    });
  });
}
