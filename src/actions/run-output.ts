/**
 * Watches an attached run to its end: waits for exit (stopping it past its timeout) while
 * reading its output as it is produced, so a flood is cut when it passes the policy's
 * output limit instead of filling the Docker log and the agent's memory first.
 */
import { BosunError } from '../domain/errors.js';
import type { CapturedOutput, OnOutput } from '../domain/engine/index.js';
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

/** Output being read while the run goes on; `stop` ends the reading early (shutdown). */
export interface OutputReader {
  output: Promise<CapturedOutput>;
  stop(): void;
}

/** A run's live output (stream: true) and its stdin. */
export interface RunIO {
  onOutput?: OnOutput | undefined;
  stdin?: string | undefined;
}

/** Attach before start: the output is read as the container writes it, never through the on-disk log; stdin is written then closed. */
export async function attachOutput(ctx: ActionContext, id: string, outputLimit: number, io: RunIO = {}): Promise<OutputReader> {
  const reader = new AbortController();
  const { output } = await ctx.engine.containers.attach(id, {
    limitBytes: REPLY_OUTPUT_LIMIT, stopAfterBytes: outputLimit, tty: false, signal: reader.signal,
    ...(io.onOutput ? { onOutput: io.onOutput } : {}), ...(io.stdin !== undefined ? { stdin: io.stdin } : {}),
  });
  return guarded({ output, stop: () => reader.abort() });
}

/** For a container that already ran (a redelivery, a run by name): its log from the start, followed to its end. */
export function followOutput(ctx: ActionContext, id: string, outputLimit: number, onOutput?: OnOutput): OutputReader {
  const reader = new AbortController();
  const output = ctx.engine.containers.logs(id, { follow: true, limitBytes: REPLY_OUTPUT_LIMIT, stopAfterBytes: outputLimit, signal: reader.signal, ...(onOutput ? { onOutput } : {}) });
  return guarded({ output, stop: () => reader.abort() });
}

function guarded(r: OutputReader): OutputReader {
  r.output.catch(() => undefined); // awaited by superviseRun; this only keeps an early failure from being "unhandled"
  return r;
}

export async function superviseRun(ctx: ActionContext, id: string, reader: OutputReader, o: { timeoutMs: number }): Promise<RunEnd> {
  const stopping = reader.output.then(async (out) => {
    // An explicit stop: no restart policy brings it back.
    if (out.overLimit) await ctx.engine.containers.stop(id, { timeoutSec: 0 });
    return out;
  });
  stopping.catch(() => undefined);
  try {
    const exit = await waitWithTimeout(ctx, id, o.timeoutMs);
    const out = await stopping;
    return { ...exit, overLimit: out.overLimit === true, out };
  } finally {
    reader.stop();
  }
}

async function waitWithTimeout(ctx: ActionContext, id: string, timeoutMs: number): Promise<{ exitCode: number; timedOut: boolean }> {
  const ctl = new AbortController();
  const onAbort = () => ctl.abort();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    const { exitCode } = await ctx.engine.containers.wait(id, { signal: ctl.signal });
    return { exitCode, timedOut: false };
  } catch (e) {
    if (ctx.signal.aborted) throw new BosunError('timeout', 'the agent is shutting down; the run will resume on redelivery', { cause: e });
    if (!ctl.signal.aborted) throw e;
    await ctx.engine.containers.stop(id, { timeoutSec: 2 });
    return { exitCode: -1, timedOut: true };
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onAbort);
  }
}
