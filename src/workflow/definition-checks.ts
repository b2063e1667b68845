/**
 * bosun's own definition checks, on top of asl-validator's: known task resources,
 * transition targets inside their own scope, `States.ALL` alone and last in Retry/Catch,
 * and fields of one query language not used in the other.
 */
import jsonata from 'jsonata';
import type { Definition, DefinitionProblem } from './definition.js';
import { isObject, type Json, type JsonObject } from './json.js';
import { checkStaticParameters } from './resource-parameters.js';
import { childScopes, type Scope } from './walk.js';

export const RESOURCES = ['bosun:run', 'bosun:stack', 'bosun:publish', 'bosun:service'] as const;
export type BosunResource = (typeof RESOURCES)[number];

/** `bosun:publish.waitForTaskToken` → { base: 'bosun:publish', waitForTaskToken: true }. */
export function parseResource(r: string): { base: BosunResource; waitForTaskToken: boolean } | undefined {
  const wait = r.endsWith('.waitForTaskToken');
  const base = wait ? r.slice(0, -'.waitForTaskToken'.length) : r;
  if (!(RESOURCES as readonly string[]).includes(base)) return undefined;
  if (wait && base !== 'bosun:publish') return undefined;
  return { base: base as BosunResource, waitForTaskToken: wait };
}

const JSONPATH_ONLY = ['InputPath', 'Parameters', 'ResultSelector', 'ResultPath', 'OutputPath', 'ItemsPath'];
const JSONATA_ONLY = ['Arguments', 'Output'];

function checkHandlers(name: string, state: JsonObject, key: 'Retry' | 'Catch', out: DefinitionProblem[]): void {
  const list = state[key];
  if (!Array.isArray(list)) return;
  list.forEach((h: Json, i) => {
    if (!isObject(h) || !Array.isArray(h.ErrorEquals)) return;
    if (h.ErrorEquals.includes('States.ALL')) {
      if (h.ErrorEquals.length > 1) out.push({ state: name, field: `${key}[${i}].ErrorEquals`, message: 'States.ALL must appear alone in ErrorEquals' });
      if (i !== list.length - 1) out.push({ state: name, field: `${key}[${i}].ErrorEquals`, message: `a ${key === 'Retry' ? 'Retrier' : 'Catcher'} with States.ALL must be the last one` });
    }
  });
}

/** Compiles every `{% %}` string of a JSONata state, so a syntax error says what and where. */
function checkExpressions(name: string, v: Json, field: string, out: DefinitionProblem[]): void {
  if (typeof v === 'string') {
    const m = /^\s*\{%([\s\S]*)%\}\s*$/.exec(v);
    if (!m) return;
    try {
      jsonata(m[1]!);
    } catch (e) {
      const err = e as { message?: string; position?: number };
      out.push({ state: name, field, message: `JSONata syntax error${err.position !== undefined ? ` at character ${err.position}` : ''}: ${err.message ?? String(e)}` });
    }
  } else if (Array.isArray(v)) v.forEach((x, i) => checkExpressions(name, x, `${field}[${i}]`, out));
  else if (isObject(v)) for (const [k, x] of Object.entries(v)) if (k !== 'States' && k !== 'Branches' && k !== 'ItemProcessor' && k !== 'Iterator') checkExpressions(name, x, field ? `${field}.${k}` : k, out);
}

function checkScope(scope: Scope, inherited: string, out: DefinitionProblem[]): void {
  if (!isObject(scope) || !isObject(scope.States)) return;
  const names = new Set(Object.keys(scope.States));
  const target = (state: string, field: string, v: Json | undefined): void => {
    if (typeof v === 'string' && !names.has(v)) out.push({ state, field, message: `"${v}" is not a state of this scope (expected one of: ${[...names].join(', ')})` });
  };
  target('', 'StartAt', scope.StartAt);
  const language = inherited;
  for (const [name, raw] of Object.entries(scope.States)) {
    if (!isObject(raw)) continue;
    const state: JsonObject = raw;
    target(name, 'Next', state.Next);
    target(name, 'Default', state.Default);
    if (Array.isArray(state.Choices)) state.Choices.forEach((c, i) => isObject(c) && target(name, `Choices[${i}].Next`, c.Next));
    if (Array.isArray(state.Catch)) state.Catch.forEach((c, i) => isObject(c) && target(name, `Catch[${i}].Next`, c.Next));
    if (state.Type === 'Task') {
      if (typeof state.Resource === 'string' && !parseResource(state.Resource)) {
        out.push({ state: name, field: 'Resource', message: `unknown resource "${state.Resource}" (expected one of: ${RESOURCES.join(', ')}, or bosun:publish.waitForTaskToken)` });
      }
    }
    checkHandlers(name, state, 'Retry', out);
    checkHandlers(name, state, 'Catch', out);
    const lang = typeof state.QueryLanguage === 'string' ? state.QueryLanguage : language;
    if (state.Type === 'Task' && typeof state.Resource === 'string') checkStaticParameters(name, state, state.Resource, lang === 'JSONata', out);
    if (lang === 'JSONata') checkExpressions(name, state, '', out);
    const wrong = lang === 'JSONata' ? JSONPATH_ONLY : JSONATA_ONLY;
    for (const f of wrong) if (f in state) out.push({ state: name, field: f, message: `${f} is a ${lang === 'JSONata' ? 'JSONPath' : 'JSONata'} field; this state's QueryLanguage is ${lang}` });
    // Nested scopes take the machine's default, as asl-validator does, not the enclosing state's.
    for (const c of childScopes(state)) checkScope(c.scope, inherited, out);
  }
}

export function bosunChecks(def: Definition): DefinitionProblem[] {
  const out: DefinitionProblem[] = [];
  checkScope(def, typeof def.QueryLanguage === 'string' ? def.QueryLanguage : 'JSONPath', out);
  return out;
}
