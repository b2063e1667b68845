/**
 * One run in a claimed warm container: its command through exec, with the run's environment,
 * working directory, timeout and output limit. The container serves only this run: past the
 * timeout or the limit it is killed here (and so is every process the run started); after a
 * run that ended, the caller kills it (WarmPools.finished).
 */
import { BosunError } from '../domain/errors.js';
import { untilAborted } from '../util/abort.js';
import type { ContainerSpec, ExecRequest, OnOutput } from '../domain/engine/index.js';
import type { ContainerEngine } from '../ports/engine.js';
import type { RunEnd } from '../actions/run-output.js';
import type { Claimed } from './pools.js';

export interface WarmRunOptions {
  engine: ContainerEngine;
  /** Aborted on shutdown. */
  signal: AbortSignal;
  timeoutMs: number;
  outputLimit: number;
  replyLimit: number;
  /** Live output (stream: true). */
  onOutput?: OnOutput | undefined;
  /** Written to the command's stdin, then closed. */
  stdin?: string | undefined;
  /** Once the command runs. */
  onStarted?: () => void;
}

/** What the run's exec is made with: the run's command line, environment, directory and user, and whether it takes stdin. */
export function warmExecSetup(argv: string[], spec: Pick<ContainerSpec, 'env' | 'workingDir' | 'user'>, stdin: boolean): ExecRequest {
  return {
    cmd: argv,
    ...(spec.env?.length ? { env: spec.env } : {}),
    ...(spec.workingDir ? { workingDir: spec.workingDir } : {}),
    ...(spec.user ? { user: spec.user } : {}),
    // Only whether it is attached counts at the making; the bytes are written at the start.
    ...(stdin ? { stdin: '' } : {}),
  };
}

export async function execWarm(c: Claimed, argv: string[], spec: ContainerSpec, o: WarmRunOptions): Promise<RunEnd> {
  const timer = new AbortController();
  const t = setTimeout(() => timer.abort(), o.timeoutMs);
  try {
    const signal = AbortSignal.any([timer.signal, o.signal]);
    const r = await (async () => {
      // A refused making (the member died after its claim) is the exec's refusal: the command never ran.
      // The run's timeout and the shutdown bound the wait for it too (then nothing ran: no output).
      const prepared = c.prepared ? await untilAborted(c.prepared, signal).catch((e: unknown) => (signal.aborted ? 'aborted' as const : Promise.reject(e))) : undefined;
      if (prepared === 'aborted') return undefined;
      return o.engine.exec.run(c.id, {
        ...warmExecSetup(argv, spec, o.stdin !== undefined),
        ...(prepared ? { prepared } : {}),
        limitBytes: o.replyLimit,
        stopAfterBytes: o.outputLimit,
        ...(o.onOutput ? { onOutput: o.onOutput } : {}),
        ...(o.stdin !== undefined ? { stdin: o.stdin } : {}),
        ...(o.onStarted ? { onStarted: o.onStarted } : {}),
        signal,
      });
    })().catch((e: unknown) => {
      if (timer.signal.aborted && !o.signal.aborted) return undefined;
      throw e;
    });
    if (o.signal.aborted) {
      await o.engine.containers.kill(c.id).catch(() => undefined);
      throw new BosunError('timeout', 'the agent is shutting down; the warm run was stopped', { retryable: true });
    }
    const out = r?.output ?? { stdout: '', stderr: '', stdoutBytes: 0, stderrBytes: 0, truncated: false };
    const timedOut = timer.signal.aborted && r?.exitCode === undefined;
    const overLimit = out.overLimit === true;
    // PID 1 is the pool's idle init, so what the command left in the background would outlive it.
    // A run cut short is killed now; one that ended is killed by its caller (WarmPools.finished),
    // after the reply: a kill costs the host more CPU than the reply's publishes and slowed them.
    if (timedOut || overLimit) await o.engine.containers.kill(c.id).catch(() => undefined);
    return { exitCode: r?.exitCode ?? -1, timedOut, overLimit, out };
  } finally {
    clearTimeout(t);
  }
}
