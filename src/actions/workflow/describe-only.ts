/**
 * Dependencies for workflow channels that are only described (JSON Schemas, the README check),
 * never run: any use of the store is a bug and says so.
 */
import type { WorkflowStore } from '../../ports/workflow-store.js';
import type { WorkflowActionDeps } from './index.js';

const store = new Proxy({} as WorkflowStore, {
  get: (_t, prop) => (prop === 'then' ? undefined : () => Promise.reject(new Error(`this registry only describes the channels; it has no workflow store (${String(prop)})`))),
});

export const DESCRIBE_ONLY_WORKFLOW_DEPS: WorkflowActionDeps = { store, kick: () => undefined };
