/**
 * Operator requests on an execution: cancel, pause, resume, redrive. Each one is recorded in
 * the store atomically with the status check (a control event in the execution's inbox) and
 * carried out by whichever executor holds, or next claims, the execution's lease — so a
 * request survives the crash of any agent and is applied exactly once.
 */
import { BosunError } from '../../domain/errors.js';
import { redriveTarget, RedriveRefused } from '../redrive.js';
import type { ControlEvent, ExecutionRecord, ExecutionStatus, WorkflowStore } from '../../ports/workflow-store.js';

const LIVE: readonly ExecutionStatus[] = ['RUNNING', 'PAUSED'];
const REDRIVABLE: readonly ExecutionStatus[] = ['FAILED', 'TIMED_OUT', 'ABORTED'];

async function request(store: WorkflowStore, id: string, event: ControlEvent, from: readonly ExecutionStatus[], what: string): Promise<ExecutionRecord> {
  const { record, posted } = await store.requestControl(id, event, from);
  if (!record) throw new BosunError('not_found', `no workflow execution "${id}"`, { field: 'execution_id' });
  if (!posted) {
    throw new BosunError('conflict', `cannot ${what} execution "${id}": its status is ${record.status} (expected ${from.join(' or ')})`, {
      field: 'execution_id', details: { status: record.status },
    });
  }
  return record;
}

/** Ends a RUNNING or PAUSED execution ABORTED; its running tasks are stopped, their containers removed. */
export function cancelExecution(store: WorkflowStore, id: string, cause?: string): Promise<ExecutionRecord> {
  return request(store, id, cause === undefined ? { type: 'Cancel' } : { type: 'Cancel', cause }, LIVE, 'cancel');
}

/** A RUNNING execution stops taking decisions; running tasks finish and their reports wait. */
export function pauseExecution(store: WorkflowStore, id: string): Promise<ExecutionRecord> {
  return request(store, id, { type: 'Pause' }, ['RUNNING'], 'pause');
}

/** A PAUSED execution goes on: waiting events are decided, timers that fell due fire. */
export function resumeExecution(store: WorkflowStore, id: string): Promise<ExecutionRecord> {
  return request(store, id, { type: 'Resume' }, ['PAUSED'], 'resume');
}

/** A FAILED, TIMED_OUT or ABORTED execution restarts at the top-level state that failed. */
export async function redriveExecution(store: WorkflowStore, id: string): Promise<ExecutionRecord> {
  const before = await store.getExecution(id);
  if (before?.state && REDRIVABLE.includes(before.status)) {
    try {
      redriveTarget(before.state);
    } catch (e) {
      if (e instanceof RedriveRefused) throw new BosunError('conflict', `cannot redrive execution "${id}": ${e.message}`, { field: 'execution_id', details: { status: before.status } });
      throw e;
    }
  }
  return request(store, id, { type: 'Redrive' }, REDRIVABLE, 'redrive');
}
