/**
 * The workflow.* channels: one module per channel group, listed here; the agent adds them to
 * its registry when it runs workflows (src/app/agent-process.ts).
 */
import type { WorkflowStore } from '../../ports/workflow-store.js';
import { defineAction } from '../define.js';
import type { Action } from '../types.js';
import { taskTokenActions } from './task-token.js';
import { workflowCancel, workflowPause, workflowRedrive, workflowResume } from './control.js';
import { workflowDefine, workflowStart } from './define-start.js';
import { workflowHistory, workflowList, workflowStatus } from './inspect.js';

export interface WorkflowActionDeps {
  store: WorkflowStore;
  /** Wakes this agent's executor at once (a start or an event was just posted). */
  kick(): void;
  /**
   * The agent's policy names publishers (users): executions and definitions are each
   * publisher's own, and another's read as missing. Without it, all are shared.
   */
  perPublisher?: boolean;
  /** Starts whose reply is not out yet (an end reply waits for its start's): PendingStartReplies. */
  startReplies?: { begin(executionId: string): void; settled(executionId: string): void };
}

export function workflowActions(deps: WorkflowActionDeps): Action[] {
  return [
    ...taskTokenActions(deps).map((a) => defineAction(a)),
    defineAction(workflowDefine(deps)),
    defineAction(workflowStart(deps)),
    defineAction(workflowStatus(deps)),
    defineAction(workflowHistory(deps)),
    defineAction(workflowList(deps)),
    defineAction(workflowCancel(deps)),
    defineAction(workflowPause(deps)),
    defineAction(workflowResume(deps)),
    defineAction(workflowRedrive(deps)),
  ];
}
