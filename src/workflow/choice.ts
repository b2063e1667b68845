/** Choice Rules in JSONPath mode: every comparison operator, And/Or/Not, and the type tests. */
import { States, StatesError } from './errors.js';
import { isObject, type Json, type JsonObject } from './json.js';
import { queryPath } from './paths.js';

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
export function isTimestamp(v: unknown): v is string {
  return typeof v === 'string' && TIMESTAMP.test(v) && !Number.isNaN(Date.parse(v));
}

type Kind = 'String' | 'Numeric' | 'Boolean' | 'Timestamp';
const KINDS: Kind[] = ['String', 'Numeric', 'Boolean', 'Timestamp'];
const RELATIONS = ['Equals', 'LessThan', 'GreaterThan', 'LessThanEquals', 'GreaterThanEquals'] as const;
type Relation = (typeof RELATIONS)[number];

/** Every comparison operator name: StringEquals … TimestampGreaterThanEqualsPath. */
export const COMPARISON_OPERATORS: string[] = KINDS.flatMap((k) => RELATIONS.filter((r) => k !== 'Boolean' || r === 'Equals').flatMap((r) => [`${k}${r}`, `${k}${r}Path`]));
export const TYPE_TESTS = ['IsNull', 'IsPresent', 'IsNumeric', 'IsString', 'IsBoolean', 'IsTimestamp'] as const;

function ofKind(kind: Kind, v: Json | undefined): boolean {
  switch (kind) {
    case 'String': return typeof v === 'string';
    case 'Numeric': return typeof v === 'number';
    case 'Boolean': return typeof v === 'boolean';
    case 'Timestamp': return isTimestamp(v);
  }
}

function compare(kind: Kind, a: Json, b: Json): number {
  if (kind === 'Timestamp') return Date.parse(a as string) - Date.parse(b as string);
  if (kind === 'Boolean') return a === b ? 0 : 1;
  if (kind === 'Numeric') return (a as number) - (b as number);
  const x = a as string;
  const y = b as string;
  return x === y ? 0 : x < y ? -1 : 1;
}

function relate(r: Relation, c: number): boolean {
  switch (r) {
    case 'Equals': return c === 0;
    case 'LessThan': return c < 0;
    case 'GreaterThan': return c > 0;
    case 'LessThanEquals': return c <= 0;
    case 'GreaterThanEquals': return c >= 0;
  }
}

/** `*` matches any run of characters; `\*` and `\\` are a literal star and backslash. */
export function stringMatches(value: string, pattern: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const n = pattern[i + 1];
      if (n !== '*' && n !== '\\') throw new StatesError(States.Runtime, `StringMatches pattern "${pattern}" has an open escape backslash at character ${i}`);
      re += `\\${n}`;
      i++;
      continue;
    }
    re += c === '*' ? '.*' : c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's').test(value);
}

function read(path: string, data: Json, context: Json): Json | undefined {
  return path.startsWith('$$') ? queryPath(path.slice(1), context) : queryPath(path, data);
}

function operatorOf(rule: JsonObject): string {
  const ops = Object.keys(rule).filter((k) => COMPARISON_OPERATORS.includes(k) || (TYPE_TESTS as readonly string[]).includes(k) || k === 'StringMatches');
  if (ops.length !== 1) throw new StatesError(States.Runtime, `a Choice Rule needs exactly one comparison operator, found ${ops.length ? ops.join(', ') : 'none'}`);
  return ops[0]!;
}

/** Whether a (top-level or nested) Choice Rule matches. */
export function evaluateRule(rule: JsonObject, data: Json, context: Json): boolean {
  if (Array.isArray(rule.And)) return rule.And.every((r) => evaluateRule(r as JsonObject, data, context));
  if (Array.isArray(rule.Or)) return rule.Or.some((r) => evaluateRule(r as JsonObject, data, context));
  if (isObject(rule.Not)) return !evaluateRule(rule.Not, data, context);
  if (typeof rule.Variable !== 'string') throw new StatesError(States.Runtime, 'a Choice Rule needs a Variable (or And/Or/Not)');
  const op = operatorOf(rule);
  const operand = rule[op];
  const value = read(rule.Variable, data, context);
  if (op === 'IsPresent') return (value !== undefined) === operand;
  if (value === undefined) throw new StatesError(States.Runtime, `invalid path '${rule.Variable}': the choice state's Variable could not be found in the input`);
  switch (op) {
    case 'IsNull': return (value === null) === operand;
    case 'IsNumeric': return (typeof value === 'number') === operand;
    case 'IsString': return (typeof value === 'string') === operand;
    case 'IsBoolean': return (typeof value === 'boolean') === operand;
    case 'IsTimestamp': return isTimestamp(value) === operand;
    case 'StringMatches': return typeof value === 'string' && typeof operand === 'string' && stringMatches(value, operand);
  }
  const isPath = op.endsWith('Path');
  const base = isPath ? op.slice(0, -4) : op;
  const kind = KINDS.find((k) => base.startsWith(k))!;
  const relation = base.slice(kind.length) as Relation;
  let other: Json | undefined = operand;
  if (isPath) {
    other = read(String(operand), data, context);
    if (other === undefined) throw new StatesError(States.Runtime, `invalid path '${String(operand)}' in ${op}: could not be found in the input`);
  }
  // A value of another type than the operator compares does not match (no coercion).
  if (!ofKind(kind, value) || !ofKind(kind, other)) return false;
  return relate(relation, compare(kind, value, other!));
}
