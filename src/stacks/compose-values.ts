/**
 * Compose value syntaxes: sizes ("512m"), durations ("1m30s"), ports ("127.0.0.1:8080:80/udp"),
 * volumes ("./data:/data:ro"), environment and label lists, `${VAR:-default}` interpolation.
 */
import { isAbsolute, resolve } from 'node:path';
import type { Mount, PortBinding } from '../domain/engine/index.js';
import { splitShellWords } from '../util/shell-words.js';

const SIZE_UNITS: Record<string, number> = { b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };

export function parseSize(v: string | number): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(v.trim());
  const unit = SIZE_UNITS[(m?.[2] ?? '').toLowerCase() || 'b'];
  if (!m || unit === undefined) throw new Error(`not a size: "${v}" (e.g. 512m, 1g)`);
  return Math.round(Number(m[1]) * unit);
}

const DURATION_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds from a Compose duration ("1m30s", "500ms"); bare numbers are seconds. */
export function parseDurationMs(v: string | number): number {
  if (typeof v === 'number') return v * 1000;
  let total = 0;
  let rest = v.trim();
  if (/^\d+(\.\d+)?$/.test(rest)) return Number(rest) * 1000;
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(us|ms|s|m|h)/.exec(rest);
    if (!m) throw new Error(`not a duration: "${v}" (e.g. 10s, 1m30s, 500ms)`);
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return total;
}

export function parseCpus(v: string | number): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`not a CPU count: "${v}"`);
  return Math.round(n * 1e9);
}

export function parsePortShort(v: string | number): PortBinding {
  const s = String(v);
  const [spec = '', proto = 'tcp'] = s.split('/');
  const parts = spec.split(':');
  if (parts.some((p) => p.includes('-'))) throw new Error(`port ranges are not supported: "${s}"`);
  const container = parts.pop()!;
  if (!/^\d+$/.test(container)) throw new Error(`not a port: "${s}"`);
  const hostPort = parts.pop() ?? '';
  const hostIp = parts.join(':');
  return { containerPort: `${container}/${proto}`, hostPort, ...(hostIp ? { hostIp } : {}) };
}

/** A short volume entry; named volumes are resolved through `volumeName`. */
export function parseVolumeShort(v: string, baseDir: string, volumeName: (key: string) => string): Mount {
  const parts = v.split(':');
  if (parts.length === 1) return { type: 'volume', target: parts[0]! };
  const [source = '', target = '', mode = ''] = parts;
  const readOnly = mode.split(',').includes('ro');
  if (source.startsWith('.') || source.startsWith('~') || isAbsolute(source)) {
    const home = process.env.HOME ?? '/root';
    const abs = source.startsWith('~') ? resolve(home, source.slice(2)) : resolve(baseDir, source);
    return { type: 'bind', source: abs, target, ...(readOnly ? { readOnly } : {}) };
  }
  return { type: 'volume', source: volumeName(source), target, ...(readOnly ? { readOnly } : {}) };
}

export function listToMap(v: Record<string, string | number | boolean | null> | string[] | undefined, sep = '='): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  if (!v) return out;
  if (Array.isArray(v)) {
    for (const e of v) {
      const i = e.indexOf(sep);
      if (i < 0) out[e] = undefined;
      else out[e.slice(0, i)] = e.slice(i + 1);
    }
  } else {
    for (const [k, x] of Object.entries(v)) out[k] = x === null ? undefined : String(x);
  }
  return out;
}

/** Parses a .env / env_file body: KEY=value lines, # comments, optional quotes. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf('=');
    if (i < 0) continue;
    let val = line.slice(i + 1).trim();
    if ((val.startsWith('"') && val.endsWith('"')) || (val.startsWith("'") && val.endsWith("'"))) val = val.slice(1, -1);
    out[line.slice(0, i).trim().replace(/^export\s+/, '')] = val;
  }
  return out;
}

/** Compose interpolation: $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, $$ → $. */
export function interpolate(s: string, env: Record<string, string | undefined>): string {
  return s.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (m, name?: string, op?: string, arg?: string, bare?: string) => {
    if (m === '$$') return '$';
    const key = (name ?? bare)!;
    const val = env[key];
    if (op === ':-') return val ? val : (arg ?? '');
    if (op === '-') return val ?? arg ?? '';
    if (op === ':?' || op === '?') {
      if (op === ':?' ? !val : val === undefined) throw new Error(`required variable ${key} is missing${arg ? `: ${arg}` : ''}`);
    }
    return val ?? '';
  });
}

/** Shell-like word splitting for string commands (as Compose does with shlex). */
export const shellSplit = splitShellWords;
