/**
 * Bounds one engine call: the caller's signal and a timeout (the call's own default unless the
 * caller gives `timeoutMs`) abort the request; the failure is then BosunError `timeout`.
 * Listeners and timers are released when the call settles (a long-lived caller signal, such as
 * the agent's shutdown signal, must not collect one listener per call).
 */
import { BosunError } from '../../domain/errors.js';
import type { CallOptions } from '../../domain/engine/index.js';

/** Default timeouts, ms. Calls that wait on a container (wait, attach, follow, exec, events) have none. */
export const CALL_TIMEOUT = {
  quick: 30_000,
  create: 120_000,
  stopGraceExtra: 30_000,
  /** A stop without a given grace period: the container's StopTimeout, unknown here. */
  stopUnknownGrace: 10 * 60_000,
  transfer: 30 * 60_000,
} as const;

export interface LinkedSignal {
  signal: AbortSignal | undefined;
  timedOut(): boolean;
  dispose(): void;
}

export function linkSignal(o: CallOptions | undefined, defaultMs: number | undefined): LinkedSignal {
  const ms = o?.timeoutMs ?? defaultMs;
  if (ms === undefined) return { signal: o?.signal, timedOut: () => false, dispose: () => undefined };
  const ctl = new AbortController();
  let timedOut = false;
  const onAbort = () => ctl.abort(o?.signal?.reason);
  if (o?.signal?.aborted) ctl.abort(o.signal.reason);
  else o?.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => {
    timedOut = true;
    ctl.abort(new Error(`timed out after ${ms} ms`));
  }, ms);
  timer.unref?.();
  return {
    signal: ctl.signal,
    timedOut: () => timedOut,
    dispose: () => {
      clearTimeout(timer);
      o?.signal?.removeEventListener('abort', onAbort);
    },
  };
}

export function timeoutError(what: string, link: LinkedSignal, cause?: unknown): BosunError {
  return new BosunError('timeout', `${what}: ${link.timedOut() ? 'timed out' : 'aborted'}`, { cause, retryable: true });
}

/** Runs `fn` with the linked signal; an abort (caller's or timeout) becomes `timeout`. */
export async function bounded<T>(o: CallOptions | undefined, defaultMs: number | undefined, what: string, fn: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
  const link = linkSignal(o, defaultMs);
  try {
    const signal = link.signal;
    if (!signal) return await fn(undefined);
    if (signal.aborted) throw timeoutError(what, link);
    // Race the abort too: not every SDK call honours the signal (then its request is abandoned).
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(timeoutError(what, link));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([fn(signal), aborted]);
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  } catch (e) {
    if (link.signal?.aborted && !(e instanceof BosunError && e.code === 'timeout')) throw timeoutError(what, link, e);
    throw e;
  } finally {
    link.dispose();
  }
}

/** dockerode's options object carrying the abort signal (when there is one). */
export function abortable<T extends object>(opts: T, signal: AbortSignal | undefined): T & { abortSignal?: AbortSignal } {
  return signal ? { ...opts, abortSignal: signal } : opts;
}
