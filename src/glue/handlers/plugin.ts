/**
 * Plugin handlers: a JavaScript or TypeScript module loaded by path — the counterpart of
 * seed 004's Python plugins. The module exports `createHandler(config)` (or a default
 * export that is such a function, or a handler object) returning a GluePlugin.
 * TypeScript modules load when bosun runs under tsx; compiled bosun loads .js/.mjs.
 * Params: module (path, relative to the config dir), plus any of the plugin's own.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BosunError } from '../../domain/errors.js';
import type { GlueHandler, HandlerConfig, HandlerContext, HandlerKind } from '../types.js';

export interface GluePlugin {
  /** Default `event`: every matching event; `state`: coalesced, reads ctx.snapshot(). */
  kind?: HandlerKind;
  handle(ctx: HandlerContext): Promise<void> | void;
  close?(): Promise<void> | void;
}

export type GluePluginFactory = (config: HandlerConfig) => GluePlugin | Promise<GluePlugin>;

function isPlugin(v: unknown): v is GluePlugin {
  return typeof v === 'object' && v !== null && typeof (v as { handle?: unknown }).handle === 'function';
}

export async function loadPlugin(cfg: HandlerConfig): Promise<GlueHandler> {
  const spec = cfg.params.module;
  if (!spec) throw new BosunError('invalid_message', `${cfg.file}: [params] module is required for a plugin handler`, { field: 'module' });
  const path = isAbsolute(spec) ? spec : resolve(cfg.dir, spec);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (e) {
    throw new BosunError('invalid_message', `${cfg.file}: cannot load plugin ${path}: ${(e as Error).message}`, { field: 'module', cause: e });
  }
  const exported = mod.createHandler ?? mod.default;
  const plugin: unknown = typeof exported === 'function' ? await (exported as GluePluginFactory)(cfg) : exported;
  if (!isPlugin(plugin)) throw new BosunError('invalid_message', `${cfg.file}: ${path} exports no createHandler() or handler with handle()`, { field: 'module' });
  const kind: HandlerKind = plugin.kind === 'state' ? 'state' : 'event';
  return {
    kind,
    handle: async (ctx) => {
      await plugin.handle(ctx);
    },
    close: async () => {
      await plugin.close?.();
    },
  };
}
