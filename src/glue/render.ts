/**
 * Renders the HAProxy config from the pure LbModel with a nunjucks (Jinja2-compatible)
 * template. Deterministic: the same model and template give the same bytes, so the
 * apply step can skip unchanged configs by comparing text.
 */
import nunjucks from 'nunjucks';
import { readFileSync } from 'node:fs';
import { dirname, basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BosunError } from '../domain/errors.js';
import type { LbModel } from './lb-model.js';
import { regexEscape } from './lb-model.js';

export interface RenderSettings {
  http_bind: string;
  tcp_bind_address: string;
  stats_socket: string;
  maxconn: number;
}

/** templates/haproxy.cfg.njk of this package. */
export const DEFAULT_TEMPLATE = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'templates', 'haproxy.cfg.njk');

function environment(loaderDir: string | undefined): nunjucks.Environment {
  const loader = loaderDir === undefined ? null : new nunjucks.FileSystemLoader(loaderDir, { noCache: true });
  const env = new nunjucks.Environment(loader, { autoescape: false, trimBlocks: true, lstripBlocks: true, throwOnUndefined: false });
  env.addFilter('re_escape', (s: unknown) => regexEscape(String(s)));
  return env;
}

function context(model: LbModel, settings: RenderSettings): object {
  return { routes: model.routes, tcp: model.tcp, settings };
}

/** Renders a template given as text (no `extends`/`include` of other files). */
export function renderConfigString(template: string, model: LbModel, settings: RenderSettings): string {
  try {
    return environment(undefined).renderString(template, context(model, settings));
  } catch (e) {
    throw new BosunError('invalid_message', `template failed to render: ${(e as Error).message}`, { field: 'template', cause: e, retryable: false });
  }
}

/**
 * Compiled templates by path, reused while the file's text is unchanged: compiling costs tens
 * of milliseconds, which would dominate a runtime API update. Templates that pull in other files
 * (`extends`, `include`, `import`) are compiled every time, so edits to those files count too.
 */
const compiled = new Map<string, { source: string; template: nunjucks.Template }>();
const PULLS_IN = /\{%-?\s*(extends|include|import|from)\b/;

/** Renders a template file; `extends`/`include` resolve next to it. */
export function renderConfigFile(templatePath: string, model: LbModel, settings: RenderSettings): string {
  try {
    const source = readFileSync(templatePath, 'utf8');
    const env = environment(dirname(templatePath));
    if (PULLS_IN.test(source)) return env.render(basename(templatePath), context(model, settings));
    let c = compiled.get(templatePath);
    if (c?.source !== source) {
      c = { source, template: new nunjucks.Template(source, env, templatePath, true) };
      compiled.set(templatePath, c);
    }
    return c.template.render(context(model, settings));
  } catch (e) {
    throw new BosunError('invalid_message', `template ${templatePath} failed to render: ${(e as Error).message}`, { field: 'template', cause: e, retryable: false });
  }
}
