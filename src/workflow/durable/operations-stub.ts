/**
 * STUB, deleted when the wf-control branch (src/workflow/durable/operations.ts) is merged:
 * the same signatures, so the workflow.* control channels are coded against them. Cancel is
 * real (the executor decides the Cancel event); pause, resume and redrive answer conflict.
 */
import { BosunError } from '../../domain/errors.js';
import type { ExecutionRecord, WorkflowStore } from '../../ports/workflow-store.js';

async function mustGet(store: WorkflowStore, id: string): Promise<ExecutionRecord> {
  const rec = await store.getExecution(id);
  if (!rec) throw new BosunError('not_found', `no execution "${id}"`, { field: 'execution_id', retryable: false });
  return rec;
}

export async function cancelExecution(store: WorkflowStore, id: string, cause?: string): Promise<ExecutionRecord> {
  const rec = await mustGet(store, id);
  if (rec.status !== 'RUNNING') throw new BosunError('conflict', `execution "${id}" is ${rec.status}: only a running execution can be cancelled`, { field: 'execution_id', retryable: false });
  await store.postEvent(id, { type: 'Cancel', ...(cause !== undefined ? { cause } : {}) }, 'cancel');
  return rec;
}

const notYet = async (store: WorkflowStore, id: string, what: string): Promise<ExecutionRecord> => {
  await mustGet(store, id);
  throw new BosunError('conflict', `${what} is not available in this build`, { retryable: false });
};

export const pauseExecution = (store: WorkflowStore, id: string): Promise<ExecutionRecord> => notYet(store, id, 'pause');
export const resumeExecution = (store: WorkflowStore, id: string): Promise<ExecutionRecord> => notYet(store, id, 'resume');
export const redriveExecution = (store: WorkflowStore, id: string): Promise<ExecutionRecord> => notYet(store, id, 'redrive');
