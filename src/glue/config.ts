/**
 * Loads handler files from the config dir: seed 004's INI (`[handler]` class, events,
 * enabled, triggers-none; `[params]`) read as is, and the same shape in YAML.
 * Files ending in .example (seed's convention for disabled samples) are ignored.
 */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, basename, resolve } from 'node:path';
import { parseConfigParserIni } from './ini.js';
import YAML from 'yaml';
import { z } from 'zod';
import { BosunError } from '../domain/errors.js';
import { HANDLER_TYPES, type HandlerConfig, type HandlerType } from './types.js';

/** Seed 004 class names → bosun handler types. A .js/.ts path means a plugin module. */
export const SEED_CLASSES: Readonly<Record<string, HandlerType>> = {
  'DockerGlue.handlers.exec.ScriptHandler': 'script',
  'DockerGlue.handlers.lb.HAProxyHandler': 'haproxy',
  'DockerGlue.handlers.publishers.distconfig.Publisher': 'etcd',
};

const scalar = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));

const FileSchema = z.object({
  handler: z.object({
    class: z.string().min(1),
    events: z.union([z.string(), z.array(scalar)]).optional(),
    enabled: scalar.optional(),
    'triggers-none': scalar.optional(),
    triggers_none: scalar.optional(),
  }),
  params: z.record(z.string(), z.union([scalar, z.null()]).transform((v) => v ?? '')).optional(),
});

function truthy(v: string | undefined, dflt: boolean): boolean {
  if (v === undefined || v.trim() === '') return dflt;
  return ['1', 'true', 'yes', 'on'].includes(v.trim().toLowerCase());
}

export function resolveType(cls: string): { type: HandlerType; module?: string } {
  const seed = SEED_CLASSES[cls];
  if (seed) return { type: seed };
  const lower = cls.toLowerCase();
  if ((HANDLER_TYPES as readonly string[]).includes(lower)) return { type: lower as HandlerType };
  if (/\.(m?js|ts|mts)$/.test(cls)) return { type: 'plugin', module: cls };
  throw new BosunError('invalid_message', `unknown handler class "${cls}" (use ${HANDLER_TYPES.join(', ')}, a seed 004 class, or a .js/.ts module path)`, { field: 'class' });
}

/** Parses one handler file's text (pure). */
export function parseHandlerFile(file: string, text: string): HandlerConfig {
  const ext = extname(file).toLowerCase();
  let raw: unknown;
  try {
    raw = ext === '.ini' ? parseConfigParserIni(text, file) : YAML.parse(text);
  } catch (e) {
    throw new BosunError('invalid_message', `${file}: ${(e as Error).message}`, { cause: e });
  }
  const parsed = FileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BosunError('invalid_message', `${file}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`, { field: issue?.path.join('.') });
  }
  const h = parsed.data.handler;
  const { type, module } = resolveType(h.class);
  const events = (Array.isArray(h.events) ? h.events : (h.events ?? 'all').split(','))
    .map((e) => e.trim())
    .filter(Boolean);
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed.data.params ?? {})) params[k.trim().toLowerCase().replace(/-/g, '_')] = v;
  if (module && params.module === undefined) params.module = module;
  return {
    name: basename(file, ext),
    file,
    type,
    events,
    enabled: truthy(h.enabled, true),
    triggersNone: truthy(h['triggers-none'] ?? h.triggers_none, false),
    params,
    dir: resolve(file, '..'),
  };
}

export interface LoadResult {
  handlers: HandlerConfig[];
  /** Files that could not be read or parsed (logged; the others still load). */
  errors: { file: string; error: BosunError }[];
}

export async function loadConfigDir(dir: string): Promise<LoadResult> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw new BosunError('invalid_message', `config dir ${dir}: ${(e as Error).message}`, { field: 'config-dir', cause: e });
  }
  const handlers: HandlerConfig[] = [];
  const errors: LoadResult['errors'] = [];
  for (const name of names.sort()) {
    if (!/\.(ini|ya?ml)$/i.test(name)) continue;
    const file = join(dir, name);
    try {
      handlers.push(parseHandlerFile(resolve(file), await readFile(file, 'utf8')));
    } catch (e) {
      errors.push({ file, error: e instanceof BosunError ? e : new BosunError('invalid_message', `${file}: ${(e as Error).message}`) });
    }
  }
  return { handlers, errors };
}

/** Seed 004's matching: `all` matches every event except `none`. */
export function matchesEvent(cfg: Pick<HandlerConfig, 'events'>, event: string): boolean {
  if (cfg.events.includes(event)) return true;
  return event !== 'none' && cfg.events.includes('all');
}
