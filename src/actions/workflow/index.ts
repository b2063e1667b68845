/**
 * The workflow.* channels: one module per channel group, listed here; the agent adds them to
 * its registry when it runs workflows (src/app/agent-process.ts).
 */
import type { WorkflowStore } from '../../ports/workflow-store.js';
import { defineAction } from '../define.js';
import type { Action } from '../types.js';
import { taskTokenActions } from './task-token.js';

export interface WorkflowActionDeps {
  store: WorkflowStore;
  /** Wakes this agent's executor at once (a start or an event was just posted). */
  kick(): void;
}

export function workflowActions(deps: WorkflowActionDeps): Action[] {
  return [
    ...taskTokenActions(deps).map((a) => defineAction(a)),
  ];
}
