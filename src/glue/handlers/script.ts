/**
 * Script handler (seed 004's DockerGlue.handlers.exec.ScriptHandler):
 * runs `<script> <config-file> <event> <container-id>` with a timeout; output is logged.
 * Params: script (absolute, or relative to the config dir, then ./handler-scripts next to
 * it), timeout_ms (default 30000). A non-zero exit is a handler failure (retried).
 */
import { access, constants } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { BosunError } from '../../domain/errors.js';
import type { GlueHandler, HandlerConfig, HandlerContext } from '../types.js';
import { runCommand } from '../run-command.js';

export async function resolveScript(cfg: HandlerConfig): Promise<string> {
  const script = cfg.params.script;
  if (!script) throw new BosunError('invalid_message', `${cfg.file}: [params] script is required`, { field: 'script' });
  const candidates = isAbsolute(script) ? [script] : [resolve(cfg.dir, script), resolve(cfg.dir, '..', 'handler-scripts', script), join(cfg.dir, 'handler-scripts', script)];
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      return c;
    } catch {
      // try the next place
    }
  }
  throw new BosunError('invalid_message', `${cfg.file}: script ${script} not found or not executable (looked in ${candidates.join(', ')})`, { field: 'script' });
}

export class ScriptHandler implements GlueHandler {
  readonly kind = 'event' as const;
  private readonly timeoutMs: number;

  constructor(
    private readonly cfg: HandlerConfig,
    private readonly script: string,
  ) {
    this.timeoutMs = Number(cfg.params.timeout_ms ?? '30000');
  }

  async handle(ctx: HandlerContext): Promise<void> {
    const r = await runCommand(this.script, [this.cfg.file, ctx.event.event, ctx.event.containerId], {
      timeoutMs: this.timeoutMs,
      signal: ctx.signal,
      cwd: this.cfg.dir,
    });
    const out = { stdout: r.stdout.trim(), stderr: r.stderr.trim(), code: r.code };
    if (r.timedOut) throw new BosunError('timeout', `script ${this.script} did not finish within ${this.timeoutMs} ms`, { details: out });
    if (r.code !== 0) throw new BosunError('nonzero_exit', `script ${this.script} exited ${r.code}: ${out.stderr.slice(0, 500)}`, { details: out, retryable: true });
    ctx.log.info(out, 'script ran');
  }
}
