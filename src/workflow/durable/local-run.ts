/**
 * One workflow run in this process on an embedded store (what `bosun workflow run` does):
 * open the store, start (or find again, by execution name) the execution, run the executor
 * until it ends. Started again with the same state dir and name after a crash, it resumes.
 */
import { hostname } from 'node:os';
import { openWorkflowStore } from '../../adapters/store-sql/workflow-store.js';
import { isEnded, type ExecutionRecord } from '../../ports/workflow-store.js';
import type { Definition } from '../definition.js';
import type { Json } from '../json.js';
import type { HistoryEvent } from '../machine-types.js';
import { DurableExecutor } from './executor.js';
import { startExecution, waitForEnd } from './start.js';
import type { TaskRunner } from './tasks.js';

export interface LocalRunOptions {
  definition: Definition;
  input: Json;
  /** `memory:`, a PGlite directory or a postgres:// URL. */
  store: string;
  executionName?: string;
  runners: Record<string, TaskRunner>;
  /** Leases are held under it: the same owner after a crash takes its executions back at once. */
  owner?: string;
  onCommit?: (executionId: string, history: HistoryEvent[]) => void;
  log?: (msg: string) => void;
}

export async function runLocally(o: LocalRunOptions): Promise<ExecutionRecord> {
  const store = await openWorkflowStore(o.store);
  const ex = new DurableExecutor({
    store, owner: o.owner ?? `local:${hostname()}`, runners: o.runners, pollMs: 100,
    ...(o.onCommit ? { onCommit: o.onCommit } : {}), ...(o.log ? { log: o.log } : {}),
  });
  try {
    const { record } = await startExecution(store, { definition: o.definition, input: o.input, ...(o.executionName ? { executionName: o.executionName } : {}) });
    if (isEnded(record.status)) return record;
    ex.start();
    return await waitForEnd(store, record.id, { pollMs: 50 });
  } finally {
    await ex.stop();
    await store.close();
  }
}
