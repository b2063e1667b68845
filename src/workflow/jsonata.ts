/**
 * JSONata mode: `{% … %}` strings evaluated with the `jsonata` library, `$states`
 * (input, result, errorOutput, context) and the execution's variables bound. Errors become
 * States.QueryEvaluationError naming the field. AWS's extra functions ($partition, $range,
 * $hash, $random, $uuid, $parse) are bound too, with the execution's seeded randomness.
 */
import { createHash } from 'node:crypto';
import jsonata from 'jsonata';
import { States, StatesError } from './errors.js';
import { isObject, toJson, type Json, type JsonObject } from './json.js';
import { uuidFrom } from './random.js';

export interface StatesBinding {
  input: Json;
  context: Json;
  result?: Json;
  errorOutput?: Json;
}

export interface JsonataEnv {
  states: StatesBinding;
  variables: JsonObject;
  random: () => number;
}

const EXPR = /^\s*\{%([\s\S]*)%\}\s*$/;
export const isExpression = (v: unknown): v is string => typeof v === 'string' && EXPR.test(v);

const HASHES: Record<string, string> = { MD5: 'md5', 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

function functions(random: () => number): Record<string, unknown> {
  return {
    partition: (arr: unknown[], size: number) => {
      const out: unknown[][] = [];
      for (let i = 0; i < arr.length; i += size) out.push(arr.slice(i, i + size));
      return out;
    },
    range: (start: number, end: number, step: number) => {
      const out: number[] = [];
      for (let v = start; step > 0 ? v <= end : v >= end; v += step) out.push(v);
      return out;
    },
    hash: (value: string, alg: string) => {
      const a = HASHES[alg];
      if (!a) throw new Error(`$hash: algorithm "${alg}" is not one of ${Object.keys(HASHES).join(', ')}`);
      return createHash(a).update(String(value), 'utf8').digest('hex');
    },
    random: () => random(),
    uuid: () => uuidFrom(random),
    parse: (s: string) => JSON.parse(s) as unknown,
  };
}

/** Evaluates one `{% %}` expression; `field` names it in errors. */
export async function evaluateExpression(text: string, env: JsonataEnv, field: string): Promise<Json | undefined> {
  const body = EXPR.exec(text)?.[1] ?? text;
  let result: unknown;
  try {
    const expr = jsonata(body);
    result = await expr.evaluate(env.states.input, { ...functions(env.random), ...env.variables, states: env.states });
  } catch (e) {
    const m = e as { message?: string; code?: string; position?: number };
    throw new StatesError(States.QueryEvaluationError, `the JSONata expression '${body.trim()}' specified for the field '${field}' failed: ${m.code ? `${m.code} ` : ''}${m.message ?? String(e)}`);
  }
  return result === undefined ? undefined : toJson(result);
}

/**
 * A JSONata-mode field value: strings holding `{% %}` are evaluated, objects and arrays at
 * any depth too; other values are literal. An object member evaluating to nothing is left
 * out; the field itself evaluating to nothing is an error.
 */
export async function evaluateTemplate(value: Json, env: JsonataEnv, field: string): Promise<Json> {
  const v = await evaluateNested(value, env, field);
  if (v === undefined) throw new StatesError(States.QueryEvaluationError, `the JSONata expression specified for the field '${field}' returned nothing`);
  return v;
}

async function evaluateNested(value: Json, env: JsonataEnv, field: string): Promise<Json | undefined> {
  if (isExpression(value)) return evaluateExpression(value, env, field);
  if (Array.isArray(value)) {
    const out: Json[] = [];
    for (const [i, x] of value.entries()) out.push((await evaluateNested(x, env, `${field}[${i}]`)) ?? null);
    return out;
  }
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(value)) {
      const r = await evaluateNested(x, env, `${field}.${k}`);
      if (r !== undefined) out[k] = r;
    }
    return out;
  }
  return value;
}

/**
 * Assign: every value is evaluated against the variables as they were before the state
 * (assignments in one Assign do not see each other), then all are written at once.
 */
export async function evaluateAssign(assign: Json | undefined, env: JsonataEnv): Promise<JsonObject> {
  if (!isObject(assign)) return env.variables;
  const next: JsonObject = { ...env.variables };
  for (const [name, v] of Object.entries(assign)) next[name] = await evaluateTemplate(v, env, `Assign.${name}`);
  return next;
}
