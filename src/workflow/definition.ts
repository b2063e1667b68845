/**
 * Loading and validating workflow definitions (ASL). Files may be JSON, JSON5 or YAML; the
 * definition is capped at 1 MB. Validation is `asl-validator` (schema, transitions, terminal
 * states, JSONata syntax) plus bosun's own checks; every problem names its state and field.
 */
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import JSON5 from 'json5';
import { parse as parseYaml } from 'yaml';
import { BosunError } from '../domain/errors.js';
import { bosunChecks } from './definition-checks.js';
import { isObject, type JsonObject } from './json.js';
import type { Scope } from './walk.js';

export const MAX_DEFINITION_BYTES = 1024 * 1024;

export interface DefinitionProblem {
  /** The state's name; '' for the top level. */
  state: string;
  /** The field inside the state (dotted, e.g. `Retry[0].ErrorEquals`); '' when the state itself. */
  field: string;
  message: string;
}

export type Definition = Scope & JsonObject;

interface AslError { 'Error code': string; Message: string; schemaError?: { instancePath: string } }
type AslValidator = (d: unknown, o: { checkPaths: boolean; checkArn: boolean }) => { isValid: boolean; errors: AslError[] };
const aslValidator = createRequire(import.meta.url)('asl-validator') as AslValidator;

/** `/States/P/Branches/0/States/B/Retry/0` → state B, field Retry[0]. */
function locate(instancePath: string): { state: string; field: string } {
  const segs = instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  let state = '';
  let rest = segs;
  for (let i = 0; i + 1 < segs.length; i++) if (segs[i] === 'States') { state = segs[i + 1]!; rest = segs.slice(i + 2); }
  const field = rest.map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s}`)).join('').replace(/^\./, '');
  return { state, field };
}

function aslProblems(def: unknown): DefinitionProblem[] {
  // asl-validator writes QueryLanguage into the states it is given: hand it a copy.
  const { errors } = aslValidator(structuredClone(def), { checkPaths: true, checkArn: false });
  const out = errors.map((e): DefinitionProblem => {
    const at = e.schemaError ? locate(e.schemaError.instancePath) : { state: '', field: '' };
    const message = e.Message.replace(/^\S+ is invalid\. /, '');
    return { ...at, message: `${message} (${e['Error code']})` };
  });
  // A oneOf over state types also reports "Type must be one of…" for the state: noise next to the real problem.
  return out.filter((p) => !(p.field === 'Type' && /allowed values/.test(p.message) && out.some((q) => q !== p && q.state === p.state)));
}

/** How deep Parallel branches and Map processors may nest (each level multiplies the validator's work). */
export const MAX_NESTING = 8;

/** The deepest nesting of state machines (Branches, ItemProcessor, Iterator) below the top level, counted without recursion. */
function nestingDepth(def: JsonObject): number {
  let deepest = 0;
  const todo: [unknown, number][] = [[def, 0]];
  while (todo.length > 0) {
    const [machine, depth] = todo.pop()!;
    if (!isObject(machine) || !isObject(machine.States)) continue;
    deepest = Math.max(deepest, depth);
    if (depth > MAX_NESTING) break;
    for (const state of Object.values(machine.States)) {
      if (!isObject(state)) continue;
      if (Array.isArray(state.Branches)) for (const b of state.Branches) todo.push([b, depth + 1]);
      if (state.ItemProcessor !== undefined) todo.push([state.ItemProcessor, depth + 1]);
      if (state.Iterator !== undefined) todo.push([state.Iterator, depth + 1]);
    }
  }
  return deepest;
}

/** All problems of a parsed definition; [] when it may run. */
export function validateDefinition(def: unknown): DefinitionProblem[] {
  if (!isObject(def)) return [{ state: '', field: '', message: 'a definition must be a JSON object with StartAt and States' }];
  const size = Buffer.byteLength(JSON.stringify(def), 'utf8');
  if (size > MAX_DEFINITION_BYTES) return [{ state: '', field: '', message: `the definition is ${size} bytes; the limit is ${MAX_DEFINITION_BYTES} (1 MB)` }];
  // asl-validator's schema (oneOf over state types) costs time exponential in how deep Parallel and Map nest.
  const depth = nestingDepth(def);
  if (depth > MAX_NESTING) return [{ state: '', field: '', message: `Parallel and Map states nest more than ${MAX_NESTING} deep (the limit)` }];
  const ours = bosunChecks(def as Definition);
  const theirs = aslProblems(def)
    .filter((p) => !(ours.some((o) => o.field.endsWith('Next') || o.field === 'StartAt' || o.field === 'Default') && /MISSING_TRANSITION_TARGET/.test(p.message)))
    // Ours say more (e.g. the JSONata syntax error) than asl-validator's "must match exactly one schema" for the same field.
    .filter((p) => !ours.some((o) => o.state === p.state && o.field === p.field && o.field !== ''));
  const seen = new Set<string>();
  return [...ours, ...theirs].filter((p) => { const k = `${p.state}\0${p.field}\0${p.message}`; return !seen.has(k) && seen.add(k) !== undefined; });
}

export function formatProblems(problems: DefinitionProblem[], label = '<definition>'): string {
  return problems.map((p) => `${label}: ${p.state ? `state "${p.state}"` : 'top level'}${p.field ? `, field ${p.field}` : ''}: ${p.message}`).join('\n');
}

/** Parses definition text: JSON, then JSON5, then YAML (by extension when one is given). */
export function parseDefinitionText(text: string, fileName = ''): unknown {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_DEFINITION_BYTES) {
    throw new BosunError('invalid_message', `${fileName || 'definition'}: ${bytes} bytes; the limit is ${MAX_DEFINITION_BYTES} (1 MB)`, { field: 'definition', retryable: false });
  }
  const yamlFirst = /\.ya?ml$/i.test(fileName);
  const attempts: [string, (t: string) => unknown][] = yamlFirst
    ? [['YAML', (t) => parseYaml(t)]]
    : [['JSON', (t) => JSON.parse(t)], ['JSON5', (t) => JSON5.parse(t)], ['YAML', (t) => parseYaml(t)]];
  const failures: string[] = [];
  for (const [kind, parse] of attempts) {
    try {
      return parse(text);
    } catch (e) {
      failures.push(`${kind}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw new BosunError('bad_json', `${fileName || 'definition'} is not ${attempts.map((a) => a[0]).join(', ')}: ${failures.at(-1)}`, { field: 'definition', retryable: false });
}

/** A valid definition or a BosunError('invalid_message') whose details hold every problem. */
export function parseDefinition(text: string, fileName = ''): Definition {
  const def = parseDefinitionText(text, fileName);
  const problems = validateDefinition(def);
  if (problems.length) {
    const first = problems[0]!;
    throw new BosunError('invalid_message', `invalid workflow definition:\n${formatProblems(problems, fileName || '<definition>')}`, {
      field: [first.state && `States.${first.state}`, first.field].filter(Boolean).join('.') || 'definition',
      details: { problems },
      retryable: false,
    });
  }
  return def as Definition;
}

export function loadDefinitionFile(path: string): Definition {
  const size = statSync(path).size;
  if (size > MAX_DEFINITION_BYTES) throw new BosunError('invalid_message', `${path}: ${size} bytes; the limit is ${MAX_DEFINITION_BYTES} (1 MB)`, { field: 'definition', retryable: false });
  return parseDefinition(readFileSync(path, 'utf8'), path);
}
