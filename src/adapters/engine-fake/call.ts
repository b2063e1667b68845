/** CallOptions for the fake: an aborted signal or a passed `timeoutMs` ends the call with `timeout`. */
import { BosunError } from '../../domain/errors.js';
import type { CallOptions } from '../../domain/engine/index.js';

export async function bounded<T>(o: CallOptions | undefined, what: string, fn: () => Promise<T>): Promise<T> {
  const signal = o?.signal;
  const ms = o?.timeoutMs;
  if (signal?.aborted) throw new BosunError('timeout', `${what}: aborted`, { retryable: true });
  if (!signal && ms === undefined) return fn();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const ended = new Promise<never>((_, reject) => {
    onAbort = () => reject(new BosunError('timeout', `${what}: aborted`, { retryable: true }));
    signal?.addEventListener('abort', onAbort, { once: true });
    if (ms !== undefined) timer = setTimeout(() => reject(new BosunError('timeout', `${what}: timed out after ${ms} ms`, { retryable: true })), ms);
  });
  try {
    return await Promise.race([fn(), ended]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

export const notFound = (what: string): BosunError => new BosunError('not_found', `no such ${what}`, { retryable: false });
