/**
 * The tenancy migration and the bounded workflow.list, on PGlite and PostgreSQL: a store made by
 * the previous schema opens, keeps its definitions and resumes its executions; a list reply stops
 * at its byte budget with a next_token, and pages through only the caller's executions.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { openDb } from '../../../src/adapters/store-sql/db.js';
import { runMigrations } from '../../../src/adapters/store-sql/run-migrations.js';
import { WORKFLOW_MIGRATIONS } from '../../../src/adapters/store-sql/workflow-migrations.js';
import { openWorkflowStore } from '../../../src/adapters/store-sql/workflow-store.js';
import { workflowList } from '../../../src/actions/workflow/inspect.js';
import type { ActionContext } from '../../../src/actions/types.js';
import type { Definition } from '../../../src/workflow/definition.js';
import { DurableExecutor } from '../../../src/workflow/durable/executor.js';
import { startExecution } from '../../../src/workflow/durable/start.js';
import { waitForEnd } from '../../helpers/workflow.js';
import { newTaskTokenKey } from '../../../src/workflow/task-token.js';
import { tempDir } from '../../helpers/agent.js';
import { BACKENDS, storeLocation } from './stores.js';

const pass = { StartAt: 'P', States: { P: { Type: 'Pass', Result: { resumed: true }, End: true } } } as unknown as Definition;

for (const backend of BACKENDS) {
  describe(`tenancy in the store (${backend})`, () => {
    it('a store made by the previous schema opens: its definition stays readable and its execution resumes', async () => {
      const dir = backend === 'pglite' ? tempDir('wf-tenancy-migrate') : undefined;
      const loc = dir ? { url: dir, drop: async () => rmSync(dir, { recursive: true, force: true }) } : await storeLocation(backend);
      try {
        const old = await openDb(loc.url);
        await runMigrations(old, { table: 'wf_schema_migrations', lock: 7_300_410, migrations: WORKFLOW_MIGRATIONS.slice(0, 3) });
        await old.query(`INSERT INTO wf_definitions (name, version, definition, created_at) VALUES ('old', 1, $1, 0)`, [JSON.stringify(pass)]);
        await old.query(`INSERT INTO wf_executions (id, status, created_at, updated_at) VALUES ('old-1', 'RUNNING', 0, 0)`);
        const started = { type: 'Started', executionId: 'old-1', name: 'old-1', definition: pass, input: {}, seed: 1, taskTokenKey: newTaskTokenKey() };
        await old.query(`INSERT INTO wf_inbox (execution_id, event, dedupe_key, posted_at) VALUES ('old-1', $1, 'started', 0)`, [JSON.stringify(started)]);
        await old.close();

        const store = await openWorkflowStore(loc.url);
        try {
          assert.equal((await store.getDefinition('old'))?.version, 1, 'the old definition is the no-publisher owner\'s');
          assert.equal((await store.putDefinition('old', pass))?.version, 2);
          assert.equal((await store.putDefinition('old', pass, 'alice'))?.version, 1, 'alice has her own');
          const ex = new DurableExecutor({ store, owner: `migrated-${backend}`, runners: {}, pollMs: 20 });
          ex.start();
          try {
            const rec = await waitForEnd(store, 'old-1');
            assert.equal(rec.status, 'SUCCEEDED');
            assert.deepEqual(rec.state?.output, { resumed: true });
            assert.equal(rec.starter, undefined);
          } finally {
            await ex.stop();
          }
        } finally {
          await store.close();
        }
      } finally {
        await loc.drop();
      }
    });

    it("workflow.list stops at its byte budget with a next_token, and pages through only the caller's executions", async () => {
      const loc = await storeLocation(backend);
      const store = await openWorkflowStore(loc.url);
      try {
        const mine: string[] = [];
        for (let i = 0; i < 3; i++) mine.push((await startExecution(store, { definition: pass, input: {}, executionName: `a-${i}`, starter: 'alice' })).record.id);
        const theirs = (await startExecution(store, { definition: pass, input: {}, executionName: 'a-0', starter: 'bob' })).record.id;
        assert.ok(!mine.includes(theirs), 'the same name by another publisher is another execution');
        const list = workflowList({ store, kick: () => undefined, perPublisher: true }, 1);
        const ctx = { publisher: 'alice' } as ActionContext;
        const seen: string[] = [];
        let token: string | undefined;
        for (let page = 0; page < 10; page++) {
          const out = await list.handle({ limit: 50, ...(token !== undefined ? { next_token: token } : {}) }, ctx);
          const result = out.reply.result as { executions: { execution_id: string }[]; next_token?: string };
          assert.equal(result.executions.length, 1, 'one execution per page: the budget is 1 byte, one always goes');
          seen.push(...result.executions.map((e) => e.execution_id));
          token = result.next_token;
          if (token === undefined) break;
        }
        assert.deepEqual([...seen].sort(), [...mine].sort());
        const whole = await workflowList({ store, kick: () => undefined, perPublisher: true }).handle({ limit: 50 }, ctx);
        const all = whole.reply.result as { executions: unknown[]; next_token?: string };
        assert.deepEqual([all.executions.length, all.next_token], [3, undefined]);
      } finally {
        await store.close();
        await loc.drop();
      }
    });
  });
}
