/** The agent's embedded workflow store is opened by its first use, once; a failed open is tried again. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openOnUse } from '../../../src/app/open-on-use.js';
import { openWorkflowStore } from '../../../src/adapters/store-sql/workflow-store.js';
import type { WorkflowStore } from '../../../src/ports/workflow-store.js';

describe('openOnUse', () => {
  it('opens nothing until a method is called, then once; close closes what was opened', async () => {
    let opens = 0;
    const opened: WorkflowStore[] = [];
    const store = openOnUse('pglite', async () => { opens++; return openWorkflowStore('memory:'); }, (s) => opened.push(s));
    assert.equal(store.kind, 'pglite');
    assert.equal(opens, 0, 'not opened by being made');
    await Promise.all([store.listExecutions(), store.getDefinition('none')]);
    assert.equal(opens, 1);
    assert.equal(opened.length, 1);
    assert.deepEqual(await store.listExecutions(), []);
    await store.close();
    await assert.rejects(store.listExecutions(), /closed/);
  });
  it('a failed open is tried again by the next call', async () => {
    let opens = 0;
    const store = openOnUse('pglite', async () => {
      if (++opens === 1) throw new Error('disk full');
      return openWorkflowStore('memory:');
    }, () => undefined);
    await assert.rejects(store.listExecutions(), /disk full/);
    assert.deepEqual(await store.listExecutions(), []);
    assert.equal(opens, 2);
    await store.close();
  });
});
