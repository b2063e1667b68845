/**
 * Reads a stack file (Compose Specification + x-bosun) into a DesiredStack. Every problem
 * — YAML syntax, schema, values, undefined references, dependency cycles — is reported
 * together, each with the file, line and column it comes from.
 */
import { readFileSync, existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { BosunError } from '../domain/errors.js';
import { graphProblems, type GraphService } from '../planner/stack/graph.js';
import type { DesiredStack } from '../domain/stack.js';
import { ComposeFileSchema } from './compose-schema.js';
import { interpolate, parseEnvFile } from './compose-values.js';
import { normalizeCompose, type Problem } from './normalize.js';
import { resolveExtends } from './extends.js';

export interface LoadOptions {
  /** Stack (project) name; default: the file's `name`, else its directory's name. */
  name?: string;
  /** Directory relative paths are resolved against; default: the file's directory (or cwd). */
  baseDir?: string;
  /** Shown in error messages. */
  fileLabel?: string;
  /** The stack file's absolute path (tells `extends: {file}` pointing back at it apart from other files). */
  filePath?: string;
  /** Variables for interpolation; default: process.env over the .env file next to the stack file. */
  env?: Record<string, string | undefined>;
  extraLabels?: Record<string, string>;
  /** Reads every host file the stack needs (the stack file, .env, env_file, extends.file) instead of readFileSync; throws to refuse it. */
  readFile?: HostFileReader;
}

/** Reads a host file for a stack; `field` names what asked for it. */
export type HostFileReader = (absPath: string, field: string) => string;

/** The reader the options ask for, else readFileSync. */
export function hostReader(o: { readFile?: HostFileReader }): HostFileReader {
  return o.readFile ?? ((path) => readFileSync(path, 'utf8'));
}

export interface StackProblem {
  path: string;
  message: string;
  line?: number;
  col?: number;
}

function dotted(path: (string | number | symbol)[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
}

/** The position of the deepest node along `path` (a map key's position for map entries). */
function locate(root: Node | null, path: (string | number | symbol)[], lc: LineCounter): { line: number; col: number } | undefined {
  let node: unknown = root;
  let offset: number | undefined = (root as { range?: [number] } | null)?.range?.[0];
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      offset = (pair.key as { range?: [number] }).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (!item) break;
      offset = (item as { range?: [number] }).range?.[0] ?? offset;
      node = item;
    } else break;
  }
  return offset === undefined ? undefined : lc.linePos(offset);
}

function interpolateAll(v: unknown, env: Record<string, string | undefined>, path: (string | number)[], problems: Problem[]): unknown {
  if (typeof v === 'string') {
    try {
      return interpolate(v, env);
    } catch (e) {
      problems.push({ path, message: (e as Error).message });
      return v;
    }
  }
  if (Array.isArray(v)) return v.map((x, i) => interpolateAll(x, env, [...path, i], problems));
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, interpolateAll(x, env, [...path, k], problems)]));
  }
  return v;
}

const names = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v !== null && typeof v === 'object' ? Object.keys(v) : []);

/**
 * Undefined services and networks and dependency cycles, read from the raw data so that a
 * file with schema errors still gets them reported in the same pass (the graph checks are
 * the same ones a valid file gets).
 */
function rawReferenceProblems(raw: unknown): Problem[] {
  if (raw === null || typeof raw !== 'object') return [];
  const file = raw as Record<string, unknown>;
  const rawServices = file.services !== null && typeof file.services === 'object' && !Array.isArray(file.services) ? (file.services as Record<string, unknown>) : {};
  const networks = new Set(['default', ...names(file.networks)]);
  const out: Problem[] = [];
  const services: Record<string, GraphService> = {};
  for (const [name, svc] of Object.entries(rawServices)) {
    if (svc === null || typeof svc !== 'object') continue;
    const s = svc as Record<string, unknown>;
    const links = Array.isArray(s.links) ? s.links.map((l) => ({ service: String(l).split(':')[0]! })) : [];
    services[name] = { name, dependsOn: names(s.depends_on).map((service) => ({ service })), links };
    for (const n of names(s.networks)) if (!networks.has(n)) out.push({ path: ['services', name, 'networks'], message: `service "${name}" uses undefined network "${n}"` });
  }
  for (const g of graphProblems(services)) out.push({ path: g.field.split('.'), message: g.message });
  return out;
}

function sanitizeName(n: string): string {
  return n.toLowerCase().replace(/[^a-z0-9_-]/g, '') || 'stack';
}

export function parseStack(text: string, opts: LoadOptions = {}): DesiredStack {
  const label = opts.fileLabel ?? '<stack>';
  const baseDir = opts.baseDir ?? process.cwd();
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: true, merge: true });
  const fail = (problems: StackProblem[]): never => {
    const lines = problems.map((p) => `${label}${p.line ? `:${p.line}:${p.col}` : ''}: ${p.path ? `${p.path}: ` : ''}${p.message}`);
    throw new BosunError('invalid_message', `invalid stack file:\n${lines.join('\n')}`, { field: problems[0]?.path || 'stack', details: { problems }, retryable: false });
  };
  if (doc.errors.length) {
    fail(doc.errors.map((e) => ({ path: '', message: (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, ''), ...(e.linePos ? { line: e.linePos[0].line, col: e.linePos[0].col } : {}) })));
  }
  const at = (p: Problem): StackProblem => ({ path: dotted(p.path), message: p.message, ...locate(doc.contents, p.path, lc) });
  const problems: Problem[] = [];
  const env = opts.env ?? process.env;
  const raw = interpolateAll(doc.toJS(), env, [], problems);
  if (raw !== null && typeof raw === 'object' && 'services' in raw && raw.services !== null && typeof raw.services === 'object' && !Array.isArray(raw.services)) {
    const readOther = (path: string): Record<string, unknown> => {
      const other = parseDocument(hostReader(opts)(path, 'extends.file'), { merge: true });
      if (other.errors.length) throw new Error(other.errors[0]!.message.split('\n')[0]);
      const data = interpolateAll(other.toJS(), env, [], []);
      return data !== null && typeof data === 'object' ? (data as Record<string, unknown>) : {};
    };
    raw.services = resolveExtends(raw.services as Record<string, unknown>, opts.filePath ?? resolve(baseDir, '<inline>'), readOther, problems);
  }
  const parsed = ComposeFileSchema.safeParse(raw);
  if (!parsed.success) {
    const schemaProblems = parsed.error.issues.map((i) => ({ path: i.path as (string | number)[], message: i.message }));
    fail([...problems, ...schemaProblems, ...rawReferenceProblems(raw)].map(at));
    throw new Error('unreachable');
  }
  const name = sanitizeName(opts.name ?? parsed.data.name ?? basename(baseDir));
  const stack = normalizeCompose(parsed.data, { name, baseDir, ...(opts.extraLabels ? { extraLabels: opts.extraLabels } : {}), readFile: hostReader(opts) }, env, problems);
  const failed = Object.entries(parsed.data.services).filter(([n, s]) => !stack.services[n] && !s['x-bosun']?.abstract).map(([n]) => n);
  for (const g of graphProblems(stack.services)) {
    if (!failed.some((f) => g.message.includes(`"${f}"`))) problems.push({ path: g.field.split('.'), message: g.message });
  }
  if (problems.length) fail(problems.map(at));
  return stack;
}

/** Reads and parses a stack file; `.env` beside it feeds interpolation, under `opts.env` (default: the process env). */
export function loadStackFile(path: string, opts: Omit<LoadOptions, 'fileLabel' | 'baseDir' | 'filePath'> = {}): DesiredStack {
  const file = resolve(path);
  let text: string;
  try {
    text = opts.readFile ? opts.readFile(file, 'path') : readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof BosunError) throw e;
    throw new BosunError('not_found', `cannot read stack file ${path}: ${(e as Error).message}`, { field: 'file', retryable: false });
  }
  const dir = dirname(file);
  const hasDotEnv = existsSync(resolve(dir, '.env'));
  const dotEnv = hasDotEnv ? parseEnvFile(hostReader(opts)(resolve(dir, '.env'), 'dotenv')) : {};
  return parseStack(text, { ...opts, fileLabel: path, filePath: file, baseDir: dir, env: { ...dotEnv, ...(opts.env ?? process.env) } });
}
