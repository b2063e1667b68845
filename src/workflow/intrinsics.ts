/** Every `States.*` intrinsic function. Pure: randomness comes from `env.random`. */
import { createHash } from 'node:crypto';
import { States, StatesError } from './errors.js';
import { parseIntrinsic, type IntrinsicArg } from './intrinsic-parser.js';
import { isObject, jsonEquals, type Json, type JsonObject } from './json.js';
import { queryPath } from './paths.js';
import { seededRandom, uuidFrom } from './random.js';

export interface IntrinsicEnv {
  /** Uniform in [0, 1); the machine passes its seeded generator. */
  random: () => number;
}
interface Scope extends IntrinsicEnv { data: Json; context: Json }

const fail = (name: string, what: string): never => { throw new StatesError(States.IntrinsicFailure, `${name}: ${what}`); };

function want<T>(name: string, args: Json[], n: number | [number, number], check: (a: Json[]) => a is Json[] & T): T {
  const [lo, hi] = Array.isArray(n) ? n : [n, n];
  if (args.length < lo || args.length > hi) fail(name, `takes ${lo === hi ? lo : `${lo} to ${hi}`} argument(s), got ${args.length}`);
  if (!check(args)) fail(name, `wrong argument types ${JSON.stringify(args)}`);
  return args as T;
}
// AWS: "If you specify a non-integer value … Step Functions will round it off to the nearest integer."
const isInt = (v: Json | undefined): v is number => typeof v === 'number' && Number.isFinite(v);
const int = (v: number): number => Math.round(v);
const str = (v: Json | undefined): v is string => typeof v === 'string';

function mergeDeep(a: JsonObject, b: JsonObject): JsonObject {
  const out: JsonObject = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isObject(v) && isObject(out[k]) ? mergeDeep(out[k] as JsonObject, v) : v;
  return out;
}

function format(template: string, args: Json[]): string {
  let i = 0;
  const out = template.replace(/\\([{}\\])|\{\}/g, (m, esc: string | undefined) => {
    if (esc) return esc;
    if (i >= args.length) fail('States.Format', `more {} placeholders than arguments (${args.length})`);
    const v = args[i++]!;
    if (v !== null && typeof v === 'object') fail('States.Format', 'arguments must be strings, numbers, booleans or null');
    return typeof v === 'string' ? v : JSON.stringify(v);
  });
  if (i !== args.length) fail('States.Format', `${args.length} arguments for ${i} {} placeholder(s)`);
  return out;
}

const HASHES: Record<string, string> = { MD5: 'md5', 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

type Fn = (a: Json[], env: IntrinsicEnv) => Json;
const FUNCTIONS: Record<string, Fn> = {
  'States.Format': (a) => { const [t, ...rest] = want<[string, ...Json[]]>('States.Format', a, [1, 1000], (x): x is Json[] & [string] => str(x[0])); return format(t, rest); },
  'States.StringToJson': (a) => { const [s] = want<[string]>('States.StringToJson', a, 1, (x): x is [string] => str(x[0])); try { return JSON.parse(s) as Json; } catch (e) { return fail('States.StringToJson', (e as Error).message); } },
  'States.JsonToString': (a) => JSON.stringify(want<[Json]>('States.JsonToString', a, 1, (x): x is [Json] => true)[0]),
  'States.Array': (a) => a,
  'States.ArrayPartition': (a) => {
    const [arr, n] = want<[Json[], number]>('States.ArrayPartition', a, 2, (x): x is [Json[], number] => Array.isArray(x[0]) && isInt(x[1]) && int(x[1]) > 0);
    const size = int(n);
    const out: Json[] = [];
    for (let i = 0; i < arr.length; i += size) out.push(arr.slice(i, i + size));
    return out;
  },
  'States.ArrayContains': (a) => { const [arr, v] = want<[Json[], Json]>('States.ArrayContains', a, 2, (x): x is [Json[], Json] => Array.isArray(x[0])); return arr.some((e) => jsonEquals(e, v)); },
  'States.ArrayRange': (a) => {
    const [s, e, step] = want<[number, number, number]>('States.ArrayRange', a, 3, (x): x is [number, number, number] => isInt(x[0]) && isInt(x[1]) && isInt(x[2]) && int(x[2]) !== 0).map(int) as [number, number, number];
    const out: number[] = [];
    for (let v = s; step > 0 ? v <= e : v >= e; v += step) { out.push(v); if (out.length > 1000) fail('States.ArrayRange', 'more than 1000 items'); }
    return out;
  },
  'States.ArrayGetItem': (a) => {
    const [arr, i] = want<[Json[], number]>('States.ArrayGetItem', a, 2, (x): x is [Json[], number] => Array.isArray(x[0]) && typeof x[1] === 'number' && Number.isInteger(x[1]) && x[1] >= 0);
    if (i >= arr.length) fail('States.ArrayGetItem', `index ${i} is out of range (length ${arr.length})`);
    return arr[i]!;
  },
  'States.ArrayLength': (a) => want<[Json[]]>('States.ArrayLength', a, 1, (x): x is [Json[]] => Array.isArray(x[0]))[0].length,
  'States.ArrayUnique': (a) => {
    const [arr] = want<[Json[]]>('States.ArrayUnique', a, 1, (x): x is [Json[]] => Array.isArray(x[0]));
    return arr.filter((v, i) => arr.findIndex((w) => jsonEquals(v, w)) === i);
  },
  'States.Base64Encode': (a) => Buffer.from(want<[string]>('States.Base64Encode', a, 1, (x): x is [string] => str(x[0]) && x[0].length <= 10000)[0], 'utf8').toString('base64'),
  'States.Base64Decode': (a) => {
    const [s] = want<[string]>('States.Base64Decode', a, 1, (x): x is [string] => str(x[0]) && x[0].length <= 10000);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) fail('States.Base64Decode', 'the argument is not Base64');
    return Buffer.from(s, 'base64').toString('utf8');
  },
  'States.Hash': (a) => {
    const [data, alg] = want<[Json, string]>('States.Hash', a, 2, (x): x is [Json, string] => str(x[1]));
    const algo = HASHES[alg];
    if (!algo) fail('States.Hash', `algorithm "${alg}" is not one of ${Object.keys(HASHES).join(', ')}`);
    const text = typeof data === 'string' ? data : JSON.stringify(data);
    if (text.length > 10000) fail('States.Hash', 'the data is longer than 10000 characters');
    return createHash(algo!).update(text, 'utf8').digest('hex');
  },
  'States.JsonMerge': (a) => {
    const [x, y, deep] = want<[JsonObject, JsonObject, boolean]>('States.JsonMerge', a, 3, (v): v is [JsonObject, JsonObject, boolean] => isObject(v[0]) && isObject(v[1]) && typeof v[2] === 'boolean');
    return deep ? mergeDeep(x, y) : { ...x, ...y };
  },
  'States.MathRandom': (a, env) => {
    const [l, h, seed] = want<[number, number, number?]>('States.MathRandom', a, [2, 3], (x): x is [number, number] => isInt(x[0]) && isInt(x[1]) && int(x[0]) < int(x[1]) && (x[2] === undefined || isInt(x[2])));
    const [lo, hi] = [int(l), int(h)];
    // start inclusive, end exclusive (AWS); the same seed gives the same number.
    const r = seed === undefined ? env.random() : seededRandom(int(seed))();
    return lo + Math.floor(r * (hi - lo));
  },
  'States.MathAdd': (a) => {
    const inRange = (v: Json | undefined): boolean => isInt(v) && int(v) >= -2147483648 && int(v) <= 2147483647;
    const [x, y] = want<[number, number]>('States.MathAdd', a, 2, (v): v is [number, number] => inRange(v[0]) && inRange(v[1]));
    return int(x) + int(y);
  },
  'States.StringSplit': (a) => {
    const [s, d] = want<[string, string]>('States.StringSplit', a, 2, (x): x is [string, string] => str(x[0]) && str(x[1]));
    const chars = new Set([...d]);
    const out: string[] = [];
    let cur = '';
    for (const ch of s) { if (chars.has(ch)) { if (cur) out.push(cur); cur = ''; } else cur += ch; }
    if (cur) out.push(cur);
    return out;
  },
  'States.UUID': (a, env) => { want<[]>('States.UUID', a, 0, (x): x is [] => true); return uuidFrom(env.random); },
};

export const INTRINSIC_NAMES = Object.keys(FUNCTIONS);

function evalArg(arg: IntrinsicArg, scope: Scope): Json {
  if (arg.kind === 'literal') return arg.value;
  if (arg.kind === 'path') {
    const v = arg.path.startsWith('$$') ? queryPath(arg.path.slice(1), scope.context) : queryPath(arg.path, scope.data);
    if (v === undefined) throw new StatesError(States.IntrinsicFailure, `the JSONPath '${arg.path}' used in an intrinsic function could not be found`);
    return v;
  }
  const fn = FUNCTIONS[arg.name];
  if (!fn) fail(arg.name, `no such intrinsic function (known: ${INTRINSIC_NAMES.join(', ')})`);
  const values = arg.args.map((a, i) => (i === 0 && arg.name === 'States.Format' && a.kind === 'literal' && a.template !== undefined ? a.template : evalArg(a, scope)));
  return fn!(values, scope);
}

export function evaluateIntrinsic(src: string, scope: Scope): Json {
  return evalArg(parseIntrinsic(src), scope);
}
