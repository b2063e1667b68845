/**
 * Parameters checked when a definition is validated, for the resources whose Parameters have
 * a schema here: only when they are wholly static (no `.$` key in JSONPath, no `{% %}` in
 * JSONata), since a dynamic field's value is known only when the state runs — then the task
 * checks them itself and fails with States.Runtime.
 */
import type { z } from 'zod';
import { StackMessage } from '../actions/stack.js';
import { serviceTaskSchema } from './durable/service-task.js';
import type { DefinitionProblem } from './definition.js';
import { isObject, type Json, type JsonObject } from './json.js';

const SCHEMAS: Record<string, z.ZodType> = { 'bosun:stack': StackMessage, 'bosun:service': serviceTaskSchema };

function isStatic(v: Json, jsonata: boolean): boolean {
  if (typeof v === 'string') return !(jsonata && /^\s*\{%[\s\S]*%\}\s*$/.test(v));
  if (Array.isArray(v)) return v.every((x) => isStatic(x, jsonata));
  if (isObject(v)) return Object.entries(v).every(([k, x]) => (jsonata || !k.endsWith('.$')) && isStatic(x, jsonata));
  return true;
}

export function checkStaticParameters(name: string, state: JsonObject, resource: string, jsonata: boolean, out: DefinitionProblem[]): void {
  const schema = SCHEMAS[resource];
  const field = jsonata ? 'Arguments' : 'Parameters';
  const params = state[field];
  if (!schema || params === undefined || !isStatic(params, jsonata)) return;
  const r = schema.safeParse(params);
  if (r.success) return;
  for (const issue of r.error.issues) {
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    out.push({ state: name, field: `${field}${path}`, message: `${resource}: ${issue.message}` });
  }
}
