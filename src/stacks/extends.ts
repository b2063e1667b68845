/**
 * Compose `extends`: a service copies another's configuration (in the same file or another
 * one) and overrides or adds to it, with the Compose Specification's merge rules:
 * mappings merge key by key, sequences append, command / entrypoint / healthcheck.test are
 * replaced, environment / labels / build args merge by key whatever their form, ports,
 * expose and volumes are unique (volumes by container path). Works on the raw YAML data,
 * before validation, so the merged service is validated as a whole.
 */
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { isBosunError } from '../domain/errors.js';
import type { Problem } from './normalize.js';

type Obj = Record<string, unknown>;

/** Reads and parses another stack file (already interpolated); throws with a message when it can't. */
export type ReadStackFile = (absPath: string) => Obj;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

const REPLACED = new Set(['command', 'entrypoint', 'image', 'container_name', 'instances']);
const KEYED = new Set(['environment', 'labels', 'extra_hosts', 'sysctls', 'args']);

/** `KEY=v` list or mapping → mapping (compose lists use `=`, extra_hosts `:`). */
function asMap(v: unknown, sep: string): Obj {
  if (isObj(v)) return v;
  if (!Array.isArray(v)) return {};
  return Object.fromEntries(v.map((x) => {
    const s = String(x);
    const i = s.indexOf(sep);
    return i < 0 ? [s, null] : [s.slice(0, i), s.slice(i + 1)];
  }));
}

const volumeTarget = (v: unknown): string => {
  if (isObj(v)) return String(v.target ?? '');
  const parts = String(v).split(':');
  return parts.length === 1 ? parts[0]! : parts[1]!;
};

function uniqueBy(base: unknown[], over: unknown[], key: (v: unknown) => string): unknown[] {
  const out = new Map<string, unknown>();
  for (const v of [...base, ...over]) out.set(key(v), v);
  return [...out.values()];
}

function mergeValue(key: string, base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (base === undefined || REPLACED.has(key)) return over;
  if (KEYED.has(key)) return { ...asMap(base, key === 'extra_hosts' ? ':' : '='), ...asMap(over, key === 'extra_hosts' ? ':' : '=') };
  if (key === 'depends_on') {
    const m = (v: unknown) => (Array.isArray(v) ? Object.fromEntries(v.map((s) => [String(s), { condition: 'service_started' }])) : isObj(v) ? v : {});
    return { ...m(base), ...m(over) };
  }
  if (key === 'volumes' && Array.isArray(base) && Array.isArray(over)) return uniqueBy(base, over, volumeTarget);
  if ((key === 'ports' || key === 'expose') && Array.isArray(base) && Array.isArray(over)) return uniqueBy(base, over, (v) => JSON.stringify(v));
  if (key === 'healthcheck' && isObj(base) && isObj(over)) return { ...base, ...over };
  if (key === 'build') {
    const m = (v: unknown): Obj => (typeof v === 'string' ? { context: v } : isObj(v) ? v : {});
    return mergeMaps(m(base), m(over));
  }
  // sequences append; the same plain value twice (a network, a capability) is kept once
  if (Array.isArray(base) && Array.isArray(over)) return [...base, ...over].filter((v, i, all) => (v !== null && typeof v === 'object') || all.indexOf(v) === i);
  if (isObj(base) && isObj(over)) return mergeMaps(base, over);
  return over;
}

function mergeMaps(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = mergeValue(k, base[k], v);
  return out;
}

/** Relative host paths in a service read from another file, rebased onto this file's directory. */
function rebase(svc: Obj, fromDir: string, toDir: string): Obj {
  if (fromDir === toDir) return svc;
  const move = (p: string) => (isAbsolute(p) || p.startsWith('~') ? p : relative(toDir, resolve(fromDir, p)) || '.');
  const out: Obj = { ...svc };
  if (typeof out.build === 'string') out.build = move(out.build);
  else if (isObj(out.build)) out.build = { ...out.build, context: move(String(out.build.context ?? '.')) };
  if (typeof out.env_file === 'string') out.env_file = move(out.env_file);
  else if (Array.isArray(out.env_file)) out.env_file = out.env_file.map((f) => move(String(f)));
  if (Array.isArray(out.volumes)) {
    out.volumes = out.volumes.map((v) => {
      if (isObj(v)) return v.type === 'bind' && typeof v.source === 'string' ? { ...v, source: move(v.source) } : v;
      const [src, ...rest] = String(v).split(':');
      if (!rest.length || !src || !/^\.\.?(\/|$)/.test(src)) return v;
      const moved = move(src);
      return [moved.startsWith('.') ? moved : `./${moved}`, ...rest].join(':');
    });
  }
  return out;
}

/** Being a template (x-bosun abstract) is not inherited. */
function withoutAbstract(svc: Obj): Obj {
  const x = svc['x-bosun'];
  if (!isObj(x) || !('abstract' in x)) return svc;
  const { abstract: _drop, ...rest } = x;
  void _drop;
  return { ...svc, 'x-bosun': rest };
}

interface Ref {
  file?: string;
  service: string;
}

function extendsRef(v: unknown): Ref | string {
  if (typeof v === 'string') return { service: v };
  if (isObj(v) && typeof v.service === 'string' && (v.file === undefined || typeof v.file === 'string')) return { service: v.service, ...(v.file ? { file: v.file } : {}) };
  return 'extends: a service name, or {service, file?}';
}

/**
 * Resolves every service's `extends` in `services` (of the stack file `mainFile`, an absolute
 * path, real or not for an inline stack); returns the services with `extends` gone. Problems
 * (unknown service, unreadable file, cycles) are pushed with their path; the service is then
 * left as written, minus `extends`.
 */
export function resolveExtends(services: Obj, mainFile: string, readFile: ReadStackFile, problems: Problem[]): Obj {
  const out: Obj = {};
  const cache = new Map<string, Obj>([[mainFile, { services }]]);
  const resolveIn = (all: Obj, name: string, current: string, chain: string[], path: (string | number)[]): Obj => {
    const dir = dirname(current);
    const svc = all[name];
    if (!isObj(svc)) return {};
    if (svc.extends === undefined) return svc;
    const { extends: ext, ...own } = svc;
    const ref = extendsRef(ext);
    if (typeof ref === 'string') {
      problems.push({ path: [...path, 'extends'], message: ref });
      return own;
    }
    const file = ref.file ? resolve(dir, ref.file) : undefined;
    const key = `${file ?? current}#${ref.service}`;
    if (chain.includes(key)) {
      problems.push({ path: [...path, 'extends'], message: `extends cycle: ${[...chain, key].map((k) => k.split('#')[1]).join(' -> ')}` });
      return own;
    }
    let pool = all;
    if (file) {
      try {
        if (!cache.has(file)) cache.set(file, readFile(file));
        const other = cache.get(file)!;
        pool = isObj(other.services) ? other.services : {};
      } catch (e) {
        if (isBosunError(e) && e.code === 'policy_denied') throw e; // a refused path is the sender's error, not a file problem
        problems.push({ path: [...path, 'extends', 'file'], message: `cannot read ${ref.file}: ${(e as Error).message}` });
        return own;
      }
    }
    if (!isObj(pool[ref.service])) {
      problems.push({ path: [...path, 'extends', 'service'], message: `extends undefined service "${ref.service}"${ref.file ? ` in ${ref.file}` : ''}` });
      return own;
    }
    const refFile = file ?? current;
    const base = rebase(resolveIn(pool, ref.service, refFile, [...chain, key], path), dirname(refFile), dir);
    return mergeMaps(withoutAbstract(base), own);
  };
  for (const name of Object.keys(services)) out[name] = resolveIn(services, name, mainFile, [`${mainFile}#${name}`], ['services', name]);
  return out;
}
