/**
 * Runs glue from a config dir: load handler files, build handlers (one that fails to build
 * is logged and left out), then either fire `none` once and wait (`-1`) or watch events.
 */
import type { ContainerEngine } from '../ports/engine.js';
import type { Logger } from '../util/log.js';
import { loadConfigDir } from './config.js';
import { Glue } from './glue.js';
import { createHandler, type HandlerDeps } from './handlers/index.js';
import type { GlueHandler, HandlerConfig } from './types.js';
import { watchEvents } from './watch.js';

export interface RunGlueOptions {
  configDir: string;
  /** Handlers given directly (e.g. `bosun balancer`); the config dir is then not read. */
  configs?: HandlerConfig[];
  mode: 'once' | 'watch';
  engine: ContainerEngine;
  log: Logger;
  deps: Omit<HandlerDeps, 'log'>;
  signal: AbortSignal;
  resyncMs: number;
  labels?: Record<string, string | true>;
  /** Called once the handlers are built (tests, bench). */
  onReady?: (glue: Glue) => void;
}

export interface RunGlueResult {
  handlers: number;
  configErrors: number;
  failures: number;
}

export async function runGlue(opts: RunGlueOptions): Promise<RunGlueResult> {
  const { log } = opts;
  const loaded = opts.configs ? { handlers: opts.configs, errors: [] } : await loadConfigDir(opts.configDir);
  for (const { file, error } of loaded.errors) log.error({ file, err: error }, 'handler file skipped');
  const built: { cfg: HandlerConfig; handler: GlueHandler }[] = [];
  let configErrors = loaded.errors.length;
  for (const cfg of loaded.handlers) {
    if (!cfg.enabled) {
      log.info({ handler: cfg.name }, 'handler disabled');
      continue;
    }
    try {
      built.push({ cfg, handler: await createHandler(cfg, { ...opts.deps, log, once: opts.mode === 'once' }) });
      log.info({ handler: cfg.name, type: cfg.type, events: cfg.events }, 'handler loaded');
    } catch (e) {
      configErrors++;
      log.error({ handler: cfg.name, file: cfg.file, err: e }, 'handler could not be created; the others go on');
    }
  }
  if (built.length === 0) log.warn({ dir: opts.configDir }, 'no handlers enabled');
  const glue = new Glue({ engine: opts.engine, handlers: built, log, ...(opts.labels ? { labels: opts.labels } : {}) });
  opts.onReady?.(glue);
  try {
    if (opts.mode === 'once') {
      glue.dispatch({ event: 'none', containerId: '' });
      await glue.idle();
    } else {
      await watchEvents({ engine: opts.engine, glue, log, signal: opts.signal, resyncMs: opts.resyncMs, ...(opts.labels ? { labels: opts.labels } : {}) });
    }
  } finally {
    await glue.close();
  }
  return { handlers: built.length, configErrors, failures: glue.workers.reduce((n, w) => n + w.failures, 0) };
}
