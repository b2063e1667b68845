/** A Map with MaxConcurrency 0 (ASL "no limit") runs at most the inline cap of items at once, as Step Functions does. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Definition } from '../../../src/workflow/definition.js';
import { delayed, runWorkflow } from '../../../src/workflow/memory-runner.js';
import { INLINE_MAP_MAX_CONCURRENCY, mapConcurrencyLimit } from '../../../src/workflow/scopes.js';

function mapOf(maxConcurrency: number | undefined): Definition {
  return {
    StartAt: 'M',
    States: { M: { Type: 'Map', ...(maxConcurrency !== undefined ? { MaxConcurrency: maxConcurrency } : {}), ItemProcessor: { StartAt: 'T', States: { T: { Type: 'Task', Resource: 'bosun:run', End: true } } }, End: true } },
  } as unknown as Definition;
}

test('the limit: MaxConcurrency when set below the cap, else the inline cap of 40', () => {
  assert.equal(INLINE_MAP_MAX_CONCURRENCY, 40);
  assert.equal(mapConcurrencyLimit(0), 40);
  assert.equal(mapConcurrencyLimit(3), 3);
  assert.equal(mapConcurrencyLimit(40), 40);
  assert.equal(mapConcurrencyLimit(500), 40);
});

for (const max of [undefined, 0, 100]) {
  test(`a Map of 100 items with MaxConcurrency ${String(max)} has exactly 40 tasks in flight at most, and all 100 outputs in order`, async () => {
    const items = Array.from({ length: 100 }, (_, i) => i);
    const r = await runWorkflow(mapOf(max), items, { tasks: { 'bosun:run': (p) => delayed(1000, p) } });
    assert.equal(r.execution.status, 'SUCCEEDED');
    assert.deepEqual(r.execution.output, items);
    assert.equal(r.maxConcurrentTasks, INLINE_MAP_MAX_CONCURRENCY);
  });
}
