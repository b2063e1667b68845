/**
 * Starting executions and waiting for their end, on any WorkflowStore.
 */
import { createHash, randomUUID } from 'node:crypto';
import { BosunError } from '../../domain/errors.js';
import { isEnded, type ExecutionRecord, type WorkflowStore } from '../../ports/workflow-store.js';
import type { Definition } from '../definition.js';
import type { Json } from '../json.js';
import type { Limits } from '../machine-types.js';
import { newTaskTokenKey } from '../task-token.js';

export interface StartRequest {
  definition: Definition;
  input: Json;
  /** Makes the start idempotent: the same name (of the same starter) is the same execution. */
  executionName?: string;
  /** The publisher starting it, when the agent's policy names publishers. */
  starter?: string;
  definitionName?: string;
  definitionVersion?: number;
  replyTo?: Json;
  limits?: Partial<Limits>;
  seed?: number;
}

/** JSON with object keys sorted, so equal values digest the same whatever their key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export function startKeyOf(r: Pick<StartRequest, 'definition' | 'input' | 'definitionName' | 'definitionVersion'>): string {
  return createHash('sha256').update(canonical({ d: r.definition, i: r.input, n: r.definitionName ?? null, v: r.definitionVersion ?? null })).digest('hex');
}

/**
 * The execution id of a named start: the name itself when no publisher is named, else the name
 * tagged with a digest of the publisher, so one publisher cannot squat another's name.
 */
export function executionIdOf(name: string, starter: string | undefined): string {
  if (starter === undefined) return name;
  return `${name}.${createHash('sha256').update('starter\0').update(starter).digest('hex').slice(0, 12)}`;
}

export async function startExecution(store: WorkflowStore, r: StartRequest): Promise<{ created: boolean; record: ExecutionRecord }> {
  const id = r.executionName === undefined ? randomUUID() : executionIdOf(r.executionName, r.starter);
  const startKey = startKeyOf(r);
  const out = await store.createExecution({
    id,
    ...(r.starter !== undefined ? { starter: r.starter } : {}),
    startKey,
    started: {
      type: 'Started', executionId: id, name: id, definition: r.definition, input: r.input,
      seed: r.seed ?? (Number.parseInt(randomUUID().slice(0, 8), 16) >>> 0), ...(r.limits ? { limits: r.limits } : {}),
      taskTokenKey: newTaskTokenKey(),
    },
    ...(r.definitionName !== undefined ? { definitionName: r.definitionName } : {}),
    ...(r.definitionVersion !== undefined ? { definitionVersion: r.definitionVersion } : {}),
    ...(r.replyTo !== undefined ? { replyTo: r.replyTo } : {}),
  });
  if (!out.created) {
    const other = out.record.starter !== r.starter;
    if (other || (out.record.startKey !== undefined && out.record.startKey !== startKey)) {
      // Step Functions' ExecutionAlreadyExists. Another starter's execution is not described.
      throw new BosunError('conflict', other
        ? `execution_name "${r.executionName ?? id}" is already in use`
        : `execution_name "${r.executionName ?? id}" already names an execution started with another definition, version or input`, { field: 'execution_name', retryable: false });
    }
  }
  return out;
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
