/** Property: a Map never has more than MaxConcurrency tasks in flight, keeps item order, and replays to the same row. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Definition } from '../../../src/workflow/definition.js';
import { delayed, replay, runWorkflow, TaskFailure } from '../../../src/workflow/memory-runner.js';

test('Map: MaxConcurrency, order, tolerated failures and replay hold for any items and delays', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ delay: fc.integer({ min: 0, max: 5000 }), fails: fc.boolean() }), { maxLength: 12 }),
      fc.integer({ min: 0, max: 4 }),
      fc.integer({ min: 0, max: 12 }),
      async (items, max, tolerated) => {
        const definition = {
          StartAt: 'M',
          States: { M: { Type: 'Map', MaxConcurrency: max, ToleratedFailureCount: tolerated, ItemProcessor: { StartAt: 'T', States: { T: { Type: 'Task', Resource: 'bosun:run', End: true } } }, End: true } },
        } as unknown as Definition;
        const r = await runWorkflow(definition, items.map((_, i) => i), {
          tasks: { 'bosun:run': (p) => { const it = items[p as number]!; return delayed(it.delay, it.fails ? new TaskFailure('E', String(p)) : p); } },
        });
        if (max > 0) assert.ok(r.maxConcurrentTasks <= max, `${r.maxConcurrentTasks} > ${max}`);
        const failures = items.filter((i) => i.fails).length;
        if (failures > tolerated) assert.equal(r.execution.error, 'States.ExceedToleratedFailureThreshold');
        else assert.deepEqual(r.execution.output, items.map((it, i) => (it.fails ? { Error: 'E', Cause: String(i) } : i)));
        assert.deepEqual(await replay(r.events), r.execution);
      },
    ),
    { numRuns: 60 },
  );
});
