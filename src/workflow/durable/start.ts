/**
 * Starting executions and waiting for their end, on any WorkflowStore.
 */
import { randomUUID } from 'node:crypto';
import { isEnded, type ExecutionRecord, type WorkflowStore } from '../../ports/workflow-store.js';
import type { Definition } from '../definition.js';
import type { Json } from '../json.js';
import type { Limits } from '../machine-types.js';
import { newTaskTokenKey } from '../task-token.js';

export interface StartRequest {
  definition: Definition;
  input: Json;
  /** Makes the start idempotent: the same name is the same execution. */
  executionName?: string;
  definitionName?: string;
  definitionVersion?: number;
  replyTo?: Json;
  limits?: Partial<Limits>;
  seed?: number;
}

export async function startExecution(store: WorkflowStore, r: StartRequest): Promise<{ created: boolean; record: ExecutionRecord }> {
  const id = r.executionName ?? randomUUID();
  return store.createExecution({
    id,
    started: {
      type: 'Started', executionId: id, name: id, definition: r.definition, input: r.input,
      seed: r.seed ?? (Number.parseInt(randomUUID().slice(0, 8), 16) >>> 0), ...(r.limits ? { limits: r.limits } : {}),
      taskTokenKey: newTaskTokenKey(),
    },
    ...(r.definitionName !== undefined ? { definitionName: r.definitionName } : {}),
    ...(r.definitionVersion !== undefined ? { definitionVersion: r.definitionVersion } : {}),
    ...(r.replyTo !== undefined ? { replyTo: r.replyTo } : {}),
  });
}

/** Polls the store until the execution has ended (or the signal aborts); a PAUSED one has not ended. */
export async function waitForEnd(store: WorkflowStore, id: string, opts: { pollMs?: number; signal?: AbortSignal } = {}): Promise<ExecutionRecord> {
  for (;;) {
    const rec = await store.getExecution(id);
    if (rec && isEnded(rec.status)) return rec;
    if (opts.signal?.aborted) throw new Error(`stopped waiting for execution ${id}`);
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 50));
  }
}
