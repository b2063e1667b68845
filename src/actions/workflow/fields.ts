/**
 * Message fields shared by the workflow.* channels, and the view of an execution they reply with.
 */
import { z } from 'zod';
import { BosunError } from '../../domain/errors.js';
import type { ExecutionRecord, TenantScope, WorkflowStore } from '../../ports/workflow-store.js';
import { parseDefinition, validateDefinition, formatProblems, type Definition } from '../../workflow/definition.js';
import type { Json } from '../../workflow/json.js';
import type { Frame } from '../../workflow/machine-types.js';
import { requestIdField, responseChannelField } from '../schemas/run.js';

/** Step Functions' names: 1–80 characters; here letters, digits and `_ . : -` (they end up in container names and labels). */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,79}$/;
const NAME_HINT = '1–80 letters, digits, _ . : - (not starting with a symbol)';

export const workflowNameField = z.string().regex(NAME_RE, `expected ${NAME_HINT}`);
export const executionNameField = z.string().regex(NAME_RE, `expected ${NAME_HINT}`);
/** Printable ASCII only: ids are names, `name.<hex>` or UUIDs, and a NUL would make the store refuse the query. */
export const EXECUTION_ID_RE = /^[!-~]{1,255}$/;
export const executionIdField = z.string().min(1, 'expected an execution id').max(255, 'expected an execution id (at most 255 characters)').regex(EXECUTION_ID_RE, 'expected an execution id (printable ASCII, no spaces)');
export const causeField = z.string().max(32_768, 'expected at most 32 KiB of text');
export const jsonField: z.ZodType<Json> = z.json() as z.ZodType<Json>;
/** A definition as a JSON object, or as JSON / JSON5 / YAML text. */
export const definitionField = z.union([z.record(z.string(), z.json()), z.string().min(1)], { error: 'expected a definition: a JSON object (StartAt, States) or its JSON/JSON5/YAML text' });

export const common = {
  request_id: requestIdField.optional(),
  response_channel: responseChannelField.optional(),
};

/** A definition checked as `bosun workflow validate` checks it; the error's field is under `definition`. */
export function checkedDefinition(value: string | Record<string, unknown>, field = 'definition'): Definition {
  if (typeof value === 'string') {
    try {
      return parseDefinition(value);
    } catch (e) {
      throw underField(e, field);
    }
  }
  const problems = validateDefinition(value);
  if (problems.length === 0) return value as Definition;
  const first = problems[0]!;
  throw new BosunError('invalid_message', `invalid workflow definition:\n${formatProblems(problems, field)}`, {
    field: [field, first.state && `States.${first.state}`, first.field].filter(Boolean).join('.'),
    details: { problems },
    retryable: false,
  });
}

function underField(e: unknown, field: string): unknown {
  if (!(e instanceof BosunError) || e.field === undefined) return e;
  const inner = e.field === 'definition' ? field : `${field}.${e.field}`;
  return new BosunError(e.code, e.message, { field: inner, retryable: false, ...(e.details !== undefined ? { details: e.details } : {}) });
}

/** Whose executions and definitions a request sees: its publisher's, when the agent is per publisher. */
export function scopeOf(perPublisher: boolean | undefined, publisher: string | undefined): TenantScope {
  return { starter: perPublisher === true ? (publisher ?? '') : null };
}

/** The starter/owner to record for a request (none when the agent is not per publisher). */
export function starterOf(scope: TenantScope): string | undefined {
  return scope.starter ?? undefined;
}

export async function mustGetExecution(store: WorkflowStore, id: string, scope?: TenantScope): Promise<ExecutionRecord> {
  const rec = await store.getExecution(id, scope);
  if (!rec) throw new BosunError('not_found', `no execution "${id}"`, { field: 'execution_id', retryable: false });
  return rec;
}

/** An execution as the channels show it (snake_case; the interpreter's frames stay inside). */
export function executionView(rec: ExecutionRecord, opts: { input?: boolean } = {}): Record<string, Json> {
  const s = rec.state;
  const view: Record<string, Json> = {
    execution_id: rec.id,
    status: rec.status,
    created_at: new Date(rec.createdAt).toISOString(),
    updated_at: new Date(rec.updatedAt).toISOString(),
  };
  if (rec.definitionName !== undefined) view.name = rec.definitionName;
  if (rec.definitionVersion !== undefined) view.version = rec.definitionVersion;
  if (s) {
    view.start_date = s.startTime;
    view.current_states = currentStates(s.frames);
    if (opts.input !== false) view.input = s.input;
    if (s.status === 'SUCCEEDED') view.output = s.output ?? null;
    if (s.error !== undefined) view.error = s.error;
    if (s.cause !== undefined) view.cause = s.cause;
  }
  return view;
}

function currentStates(frames: Record<string, Frame>): string[] {
  return [...new Set(Object.values(frames).map((f) => f.state))];
}
