/**
 * `waitForEnd` for tests: bounded (240 s, or the test file's time left, unless the test passes
 * its own signal), so an execution that never ends fails its test naming the execution instead of
 * hanging the file until the runner's per-file timeout kills it without saying what it waited for.
 */
import type { ExecutionRecord, WorkflowStore } from '../../src/ports/workflow-store.js';
import { waitForEnd as waitForEndUnbounded } from '../../src/workflow/durable/start.js';
import { fileBudget } from './docker.js';

export function waitForEnd(store: WorkflowStore, id: string, opts: { pollMs?: number; signal?: AbortSignal } = {}): Promise<ExecutionRecord> {
  return waitForEndUnbounded(store, id, { ...opts, signal: opts.signal ?? AbortSignal.timeout(fileBudget(240_000)) });
}
