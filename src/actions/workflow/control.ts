/**
 * workflow.cancel, workflow.pause, workflow.resume, workflow.redrive: each records the request
 * in the store (src/workflow/durable/operations) and wakes the executor; whoever holds the
 * execution's lease carries it out. The reply is the execution as the request left it.
 */
import { z } from 'zod';
import type { ExecutionRecord, TenantScope, WorkflowStore } from '../../ports/workflow-store.js';
import { cancelExecution, pauseExecution, redriveExecution, resumeExecution } from '../../workflow/durable/operations.js';
import type { ActionDefinition } from '../types.js';
import { causeField, common, executionIdField, executionView, scopeOf } from './fields.js';
import type { WorkflowActionDeps } from './index.js';

const cancelSchema = z.strictObject({ ...common, execution_id: executionIdField, cause: causeField.optional() });
const idSchema = z.strictObject({ ...common, execution_id: executionIdField });

export function workflowCancel(d: WorkflowActionDeps): ActionDefinition<typeof cancelSchema> {
  return {
    channel: 'workflow.cancel',
    description: 'Cancel a running execution: its task containers are stopped and it ends ABORTED (cause recorded).',
    schema: cancelSchema,
    replyChannelOf: (i) => i.response_channel,
    async handle(input, ctx) {
      const rec = await cancelExecution(d.store, input.execution_id, input.cause, scopeOf(d.perPublisher, ctx.publisher));
      d.kick();
      return { reply: { result: executionView(rec, { input: false }) } };
    },
  };
}

function byId(d: WorkflowActionDeps, channel: string, description: string, op: (store: WorkflowStore, id: string, scope: TenantScope) => Promise<ExecutionRecord>): ActionDefinition<typeof idSchema> {
  return {
    channel,
    description,
    schema: idSchema,
    replyChannelOf: (i) => i.response_channel,
    async handle(input, ctx) {
      const rec = await op(d.store, input.execution_id, scopeOf(d.perPublisher, ctx.publisher));
      d.kick();
      return { reply: { result: executionView(rec, { input: false }) } };
    },
  };
}

export const workflowPause = (d: WorkflowActionDeps) => byId(d, 'workflow.pause', 'Pause a running execution: no new decisions until resumed (running tasks finish, their reports wait).', pauseExecution);
export const workflowResume = (d: WorkflowActionDeps) => byId(d, 'workflow.resume', 'Resume a paused execution.', resumeExecution);
export const workflowRedrive = (d: WorkflowActionDeps) => byId(d, 'workflow.redrive', 'Restart a FAILED, TIMED_OUT or ABORTED execution from the state(s) that failed, keeping what succeeded.', redriveExecution);
