/**
 * Cancel and the sweep with bosun:run containers on the real Docker engine (PGlite store):
 * a cancelled execution's running container is stopped and removed, also when it was paused;
 * a container left after its task was reported (its agent went away before removing it) is
 * removed by the executor that adopts the execution.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SqlWorkflowStore } from '../../../src/adapters/store-sql/workflow-store.js';
import { LABEL } from '../../../src/domain/labels.js';
import { DEFAULT_POLICY } from '../../../src/domain/policy.js';
import { silentLogger } from '../../../src/util/log.js';
import type { Definition } from '../../../src/workflow/definition.js';
import { DurableExecutor } from '../../../src/workflow/durable/executor.js';
import { cancelExecution, pauseExecution } from '../../../src/workflow/durable/operations.js';
import { RunTaskRunner } from '../../../src/workflow/durable/run-task.js';
import { startExecution } from '../../../src/workflow/durable/start.js';
import { waitForEnd } from '../../helpers/workflow.js';
import { eventually, newRunId, removeTestContainers, TEST_IMAGE, testEngine } from '../../helpers/docker.js';
import { openTestStore } from './stores.js';

const def = (d: unknown): Definition => d as Definition;
const sh = (script: string) => ({ image: TEST_IMAGE, command: ['sh', '-c', script], pull: 'never' });

describe('workflow control with bosun:run on Docker', () => {
  const engine = testEngine();
  const runId = newRunId();
  let store: SqlWorkflowStore;
  let close: () => Promise<void>;
  const runner = (remove = true) => new RunTaskRunner({ engine, policy: DEFAULT_POLICY, log: silentLogger, labels: { [LABEL.test]: runId }, remove });
  const containersOf = (id: string) => engine.containers.list({ all: true, labels: { [LABEL.wfExecution]: id } });
  const types = async (id: string): Promise<string[]> => (await store.history(id)).map((h) => h.type);
  before(async () => ({ store, close } = await openTestStore('pglite')));
  after(async () => {
    await removeTestContainers(engine, runId);
    await close();
  });

  const sleeper = def({ StartAt: 'Sleep', States: { Sleep: { Type: 'Task', Resource: 'bosun:run', Parameters: sh('sleep 120'), End: true } } });

  test('cancel: the running task container is stopped and removed, the execution ends ABORTED', async () => {
    const ex = new DurableExecutor({ store, owner: 'cancel-d', runners: { 'bosun:run': runner() }, pollMs: 50 });
    ex.start();
    try {
      const { record } = await startExecution(store, { definition: sleeper, input: {} });
      ex.kick();
      await eventually('the task container runs', async () => (await containersOf(record.id)).some((c) => c.status === 'running'), 60_000);
      await cancelExecution(store, record.id, 'test cancel');
      const done = await waitForEnd(store, record.id);
      assert.equal(done.status, 'ABORTED');
      assert.equal((await types(record.id)).at(-1), 'ExecutionAborted');
      await eventually('the container is gone', async () => (await containersOf(record.id)).length === 0, 30_000);
    } finally {
      await ex.stop();
    }
  });

  test('cancel of a paused execution removes the container its task left running', async () => {
    const ex = new DurableExecutor({ store, owner: 'pause-d', runners: { 'bosun:run': runner() }, pollMs: 50 });
    ex.start();
    try {
      const { record } = await startExecution(store, { definition: sleeper, input: {} });
      ex.kick();
      await eventually('the task container runs', async () => (await containersOf(record.id)).some((c) => c.status === 'running'), 60_000);
      await pauseExecution(store, record.id);
      await eventually('paused', async () => (await store.getExecution(record.id))?.status === 'PAUSED');
      assert.ok((await containersOf(record.id)).some((c) => c.status === 'running'), 'pausing leaves the running task alone');
      await cancelExecution(store, record.id);
      assert.equal((await waitForEnd(store, record.id)).status, 'ABORTED');
      await eventually('the container is gone', async () => (await containersOf(record.id)).length === 0, 30_000);
    } finally {
      await ex.stop();
    }
  });

  test('sweep: a container kept after its task was reported is removed by the executor that adopts the execution', async () => {
    const flow = def({
      StartAt: 'Echo',
      States: { Echo: { Type: 'Task', Resource: 'bosun:run', Parameters: sh('echo done'), Next: 'Hold' }, Hold: { Type: 'Wait', Seconds: 600, End: true } },
    });
    // The first agent "dies" between the report and the removal: its runner never removes.
    const first = new DurableExecutor({ store, owner: 'sweep-1', runners: { 'bosun:run': runner(false) }, pollMs: 50 });
    first.start();
    const { record } = await startExecution(store, { definition: flow, input: {} });
    first.kick();
    try {
      await eventually('Echo reported, Hold waiting', async () => (await types(record.id)).includes('WaitStarted'), 60_000);
      const left = await containersOf(record.id);
      assert.equal(left.length, 1, 'the reported task left its container');
      assert.equal(left[0]!.labels[LABEL.wfState], 'Echo');
    } finally {
      await first.stop();
    }
    const second = new DurableExecutor({ store, owner: 'sweep-2', runners: { 'bosun:run': runner() }, pollMs: 50 });
    second.start();
    try {
      await eventually('adopted by the second executor', async () => second.executions.includes(record.id));
      await eventually('the left container is swept', async () => (await containersOf(record.id)).length === 0, 30_000);
      assert.equal((await store.getExecution(record.id))?.status, 'RUNNING', 'swept while the execution goes on');
      await cancelExecution(store, record.id);
      assert.equal((await waitForEnd(store, record.id)).status, 'ABORTED');
    } finally {
      await second.stop();
    }
  });
});
