/**
 * `waitForEnd` for tests: bounded (240 s unless the test passes its own signal), so an execution
 * that never ends fails its test naming the execution instead of hanging the file until the
 * runner's per-test timeout (300 s) ends it without saying what it waited for.
 */
import type { ExecutionRecord, WorkflowStore } from '../../src/ports/workflow-store.js';
import { waitForEnd as waitForEndUnbounded } from '../../src/workflow/durable/start.js';

export function waitForEnd(store: WorkflowStore, id: string, opts: { pollMs?: number; signal?: AbortSignal } = {}): Promise<ExecutionRecord> {
  return waitForEndUnbounded(store, id, { ...opts, signal: opts.signal ?? AbortSignal.timeout(240_000) });
}
