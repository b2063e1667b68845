/**
 * Operator requests on an execution: cancel, pause, resume, redrive. Each one is recorded in
 * the store atomically with the status check (a control event in the execution's inbox) and
 * carried out by whichever executor holds, or next claims, the execution's lease — so a
 * request survives the crash of any agent and is applied exactly once.
 */
import { BosunError } from '../../domain/errors.js';
import { redriveTarget, RedriveRefused } from '../redrive.js';
import type { ControlEvent, ExecutionRecord, ExecutionStatus, TenantScope, WorkflowStore } from '../../ports/workflow-store.js';

const LIVE: readonly ExecutionStatus[] = ['RUNNING', 'PAUSED'];
const REDRIVABLE: readonly ExecutionStatus[] = ['FAILED', 'TIMED_OUT', 'ABORTED'];

async function request(store: WorkflowStore, id: string, event: ControlEvent, from: readonly ExecutionStatus[], what: string, scope?: TenantScope): Promise<ExecutionRecord> {
  const { record, posted } = await store.requestControl(id, event, from, scope);
  if (!record) throw new BosunError('not_found', `no workflow execution "${id}"`, { field: 'execution_id' });
  if (!posted) {
    throw new BosunError('conflict', `cannot ${what} execution "${id}": its status is ${record.status} (expected ${from.join(' or ')})`, {
      field: 'execution_id', details: { status: record.status },
    });
  }
  return record;
}

/** Ends a RUNNING or PAUSED execution ABORTED; its running tasks are stopped, their containers removed. */
export function cancelExecution(store: WorkflowStore, id: string, cause?: string, scope?: TenantScope): Promise<ExecutionRecord> {
  return request(store, id, cause === undefined ? { type: 'Cancel' } : { type: 'Cancel', cause }, LIVE, 'cancel', scope);
}

/** A RUNNING execution stops taking decisions; running tasks finish and their reports wait. */
export function pauseExecution(store: WorkflowStore, id: string, scope?: TenantScope): Promise<ExecutionRecord> {
  return request(store, id, { type: 'Pause' }, ['RUNNING'], 'pause', scope);
}

/** A PAUSED execution goes on: waiting events are decided, timers that fell due fire. */
export function resumeExecution(store: WorkflowStore, id: string, scope?: TenantScope): Promise<ExecutionRecord> {
  return request(store, id, { type: 'Resume' }, ['PAUSED'], 'resume', scope);
}

/** A FAILED, TIMED_OUT or ABORTED execution restarts at the top-level state that failed. */
export async function redriveExecution(store: WorkflowStore, id: string, scope?: TenantScope): Promise<ExecutionRecord> {
  const before = await store.getExecution(id, scope);
  if (before?.state && REDRIVABLE.includes(before.status)) {
    try {
      redriveTarget(before.state);
    } catch (e) {
      if (e instanceof RedriveRefused) throw new BosunError('conflict', `cannot redrive execution "${id}": ${e.message}`, { field: 'execution_id', details: { status: before.status } });
      throw e;
    }
  }
  return request(store, id, { type: 'Redrive' }, REDRIVABLE, 'redrive', scope);
}
