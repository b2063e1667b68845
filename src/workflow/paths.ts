/**
 * JSONPath mode: Paths (via jsonpath-plus), Reference Paths for ResultPath, the context
 * object `$$`, and Payload Templates (`.$` keys) with intrinsic functions.
 */
import { JSONPath } from 'jsonpath-plus';
import { States, StatesError } from './errors.js';
import { evaluateIntrinsic, type IntrinsicEnv } from './intrinsics.js';
import { isObject, toJson, type Json, type JsonObject } from './json.js';

/** A path that selects many values (wildcards, filters, slices, unions, descent) yields an array. */
export function isDefinitePath(path: string): boolean {
  return !/\*|\.\.|\?\(|\[[^\]]*[:,][^\]]*\]|@/.test(path);
}

/** The values a path selects; `undefined` when a definite path selects nothing. */
export function queryPath(path: string, data: Json): Json | undefined {
  if (path === '$') return data;
  if (!path.startsWith('$')) throw new StatesError(States.Runtime, `"${path}" is not a path (a path starts with $)`);
  let found: unknown[];
  try {
    found = JSONPath({ path, json: data as object, wrap: true, eval: 'safe' }) as unknown[];
  } catch (e) {
    throw new StatesError(States.Runtime, `invalid path "${path}": ${(e as Error).message}`);
  }
  if (!isDefinitePath(path)) return toJson(found);
  return found.length ? toJson(found[0]) : undefined;
}

/** A path that must select something (InputPath, OutputPath, `.$` keys…). */
export function requirePath(path: string, data: Json, field: string, context?: Json, error: string = States.Runtime): Json {
  const fromContext = path.startsWith('$$');
  const v = fromContext ? queryPath(path.slice(1), context ?? null) : queryPath(path, data);
  if (v === undefined) throw new StatesError(error, `the JSONPath '${path}' specified for the field '${field}' could not be found in the ${fromContext ? 'context object' : 'input'}`);
  return v;
}

/** `$.a.b[0]` → ['a','b',0]; refuses anything but names and indices (a Reference Path). */
export function referencePath(path: string): (string | number)[] {
  if (path === '$') return [];
  if (!path.startsWith('$') || !isDefinitePath(path)) throw new StatesError(States.Runtime, `"${path}" is not a reference path (only $, .name, ['name'] and [index] are allowed)`);
  return JSONPath.toPathArray(path).slice(1).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/**
 * ResultPath: `result` placed into `input` at the reference path (a copy; missing objects
 * are created). Null keeps the input, `$` replaces it.
 */
export function applyResultPath(input: Json, resultPath: string | null | undefined, result: Json): Json {
  if (resultPath === null) return input;
  if (resultPath === undefined || resultPath === '$') return result;
  const segs = referencePath(resultPath);
  const root: Json = structuredClone(input);
  if (!isObject(root) && !Array.isArray(root)) throw new StatesError(States.ResultPathMatchFailure, `unable to apply ResultPath "${resultPath}" to an input that is ${JSON.stringify(input)}`);
  let node: Json = root;
  segs.forEach((seg, i) => {
    const last = i === segs.length - 1;
    if (typeof seg === 'number' && Array.isArray(node)) {
      if (seg >= node.length) throw new StatesError(States.ResultPathMatchFailure, `unable to apply ResultPath "${resultPath}": index ${seg} is out of range`);
      if (last) node[seg] = result;
      else node = node[seg]!;
      return;
    }
    if (!isObject(node)) throw new StatesError(States.ResultPathMatchFailure, `unable to apply ResultPath "${resultPath}": "${String(seg)}" is inside a ${Array.isArray(node) ? 'array' : typeof node}`);
    const key = String(seg);
    if (last) node[key] = result;
    else {
      if (!(key in node) || node[key] === null) node[key] = {};
      const next: Json = node[key]!;
      if (!isObject(next) && !Array.isArray(next)) throw new StatesError(States.ResultPathMatchFailure, `unable to apply ResultPath "${resultPath}": "${key}" holds ${JSON.stringify(next)}`);
      node = next;
    }
  });
  return root;
}

/** A `.$` value: a path (`$…`), a context path (`$$…`), or an intrinsic function call. */
export function evaluateDynamic(expr: string, data: Json, context: Json, env: IntrinsicEnv, field: string): Json {
  // Spec: "If the path is legal but cannot be applied successfully … States.ParameterPathFailure".
  if (expr.startsWith('$')) return requirePath(expr, data, field, context, States.ParameterPathFailure);
  if (expr.startsWith('States.')) return evaluateIntrinsic(expr, { ...env, data, context });
  throw new StatesError(States.ParameterPathFailure, `the value of '${field}' must be a path or an intrinsic function, got "${expr}"`);
}

/** Payload Template: keys ending in `.$` are evaluated (at any depth, inside arrays too). */
export function resolveTemplate(template: Json, data: Json, context: Json, env: IntrinsicEnv, at = ''): Json {
  if (Array.isArray(template)) return template.map((t, i) => resolveTemplate(t, data, context, env, `${at}[${i}]`));
  if (!isObject(template)) return template;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(template)) {
    const field = at ? `${at}.${key}` : key;
    if (key.endsWith('.$')) {
      if (typeof value !== 'string') throw new StatesError(States.Runtime, `the value of '${field}' must be a string`);
      out[key.slice(0, -2)] = evaluateDynamic(value, data, context, env, field);
    } else out[key] = resolveTemplate(value, data, context, env, field);
  }
  return out;
}
