/**
 * The executor under a task bound (real PGlite store in memory, a counting runner): a Map of 12
 * with MaxConcurrency 0 never has more than 3 task runs at once with a bound of 3, and ends
 * SUCCEEDED with all 12 outputs. (The same with real containers through an agent is still open.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openWorkflowStore } from '../../../src/adapters/store-sql/workflow-store.js';
import type { Definition } from '../../../src/workflow/definition.js';
import { DurableExecutor } from '../../../src/workflow/durable/executor.js';
import { startExecution } from '../../../src/workflow/durable/start.js';
import { waitForEnd } from '../../helpers/workflow.js';
import { TaskLimiter } from '../../../src/workflow/durable/task-limiter.js';
import type { TaskRunner } from '../../../src/workflow/durable/tasks.js';

test('a Map of 12 under --workflow-max-tasks 3: at most 3 task runs at once, all 12 outputs', async () => {
  const store = await openWorkflowStore('memory:');
  let running = 0;
  let most = 0;
  const runner: TaskRunner = {
    run: async (ctx) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 20));
      running -= 1;
      return { ok: true, output: ctx.command.input };
    },
  };
  const limiter = new TaskLimiter(3);
  const ex = new DurableExecutor({ store, owner: 'bound-test', pollMs: 20, runners: { 'bosun:run': runner }, taskLimiter: limiter });
  ex.start();
  try {
    const definition = {
      StartAt: 'M',
      States: { M: { Type: 'Map', MaxConcurrency: 0, ItemProcessor: { StartAt: 'T', States: { T: { Type: 'Task', Resource: 'bosun:run', End: true } } }, End: true } },
    } as unknown as Definition;
    const items = Array.from({ length: 12 }, (_, i) => i);
    const { record } = await startExecution(store, { definition, input: items });
    ex.kick();
    const end = await waitForEnd(store, record.id);
    assert.equal(end.status, 'SUCCEEDED');
    assert.deepEqual(end.state?.output, items);
    assert.equal(most, 3);
    assert.equal(limiter.running, 0);
  } finally {
    await ex.stop();
    await store.close();
  }
});
