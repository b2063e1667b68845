/**
 * Watches an attached run to its end: waits for exit (stopping it past its timeout) while
 * reading its output as it is produced, so a flood is cut when it passes the policy's
 * output limit instead of filling the Docker log and the agent's memory first.
 */
import { BosunError } from '../domain/errors.js';
import type { CapturedOutput } from '../ports/engine.js';
import type { ActionContext } from './types.js';

/** What a reply keeps of each stream. */
export const REPLY_OUTPUT_LIMIT = 1024 * 1024;

export interface RunEnd {
  exitCode: number;
  timedOut: boolean;
  /** Stopped because its output passed the limit. */
  overLimit: boolean;
  out: CapturedOutput;
}

export async function superviseRun(ctx: ActionContext, id: string, o: { timeoutMs: number; outputLimit: number; tty?: boolean }): Promise<RunEnd> {
  const reader = new AbortController();
  const reading = ctx.engine
    .logs(id, { follow: true, limitBytes: REPLY_OUTPUT_LIMIT, stopAfterBytes: o.outputLimit, signal: reader.signal, ...(o.tty !== undefined ? { tty: o.tty } : {}) })
    .then(async (out) => {
      // An explicit stop: no restart policy brings it back.
      if (out.overLimit) await ctx.engine.stopContainer(id, { timeoutSec: 0 });
      return out;
    });
  reading.catch(() => undefined); // awaited below; this only keeps an early failure from being "unhandled"
  try {
    const exit = await waitWithTimeout(ctx, id, o.timeoutMs);
    const out = await reading;
    return { ...exit, overLimit: out.overLimit === true, out };
  } finally {
    reader.abort();
  }
}

async function waitWithTimeout(ctx: ActionContext, id: string, timeoutMs: number): Promise<{ exitCode: number; timedOut: boolean }> {
  const ctl = new AbortController();
  const onAbort = () => ctl.abort();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    const { exitCode } = await ctx.engine.waitContainer(id, { signal: ctl.signal });
    return { exitCode, timedOut: false };
  } catch (e) {
    if (ctx.signal.aborted) throw new BosunError('timeout', 'the agent is shutting down; the run will resume on redelivery', { cause: e });
    if (!ctl.signal.aborted) throw e;
    await ctx.engine.stopContainer(id, { timeoutSec: 2 });
    return { exitCode: -1, timedOut: true };
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onAbort);
  }
}
