/**
 * Retry and Catch: the first Retrier / Catcher whose ErrorEquals matches wins (order as
 * written; validation keeps States.ALL alone and last). Back-off: IntervalSeconds ×
 * BackoffRate^(retries so far), capped by MaxDelaySeconds; JitterStrategy FULL draws the
 * delay uniformly from [0, that) with the passed-in randomness.
 */
import { NOT_MATCHED_BY_ALL, States } from './errors.js';
import { isObject, type Json, type JsonObject } from './json.js';

export const RETRY_DEFAULTS = { IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2.0 } as const;

/**
 * Whether `name` is matched by an ErrorEquals list. States.ALL matches every error except
 * States.Runtime and States.DataLimitExceeded; States.TaskFailed (on a Task) matches every
 * error except States.Timeout and those two.
 */
export function errorMatches(errorEquals: Json | undefined, name: string): boolean {
  if (!Array.isArray(errorEquals)) return false;
  if (errorEquals.includes(name)) return true;
  // Spec Appendix A: States.Timeout also covers a missed heartbeat.
  if (name === States.HeartbeatTimeout && errorEquals.includes(States.Timeout)) return true;
  if (NOT_MATCHED_BY_ALL.has(name)) return false;
  if (errorEquals.includes(States.ALL)) return true;
  return errorEquals.includes(States.TaskFailed) && name !== States.Timeout && name !== States.HeartbeatTimeout;
}

export interface RetryDecision {
  retrier: number;
  /** Milliseconds to wait before the next attempt. */
  delayMs: number;
}

/**
 * The retry to make for `error`, or undefined when the error goes to the Catchers: no
 * matching Retrier, or the matching one has used its MaxAttempts. `counts[i]` is how many
 * times Retrier i has retried since the state was entered.
 */
export function decideRetry(retry: Json | undefined, counts: readonly number[], error: string, random: () => number): RetryDecision | undefined {
  if (!Array.isArray(retry)) return undefined;
  const i = retry.findIndex((r) => isObject(r) && errorMatches(r.ErrorEquals, error));
  if (i < 0) return undefined;
  const r = retry[i] as JsonObject;
  const num = (v: Json | undefined, d: number): number => (typeof v === 'number' ? v : d);
  const max = num(r.MaxAttempts, RETRY_DEFAULTS.MaxAttempts);
  const done = counts[i] ?? 0;
  if (done >= max) return undefined;
  let seconds = num(r.IntervalSeconds, RETRY_DEFAULTS.IntervalSeconds) * Math.pow(num(r.BackoffRate, RETRY_DEFAULTS.BackoffRate), done);
  if (typeof r.MaxDelaySeconds === 'number') seconds = Math.min(seconds, r.MaxDelaySeconds);
  if (r.JitterStrategy === 'FULL') seconds = random() * seconds;
  return { retrier: i, delayMs: Math.round(seconds * 1000) };
}

/** The index of the Catcher that handles `error`, or -1. */
export function findCatcher(catchers: Json | undefined, error: string): number {
  if (!Array.isArray(catchers)) return -1;
  return catchers.findIndex((c) => isObject(c) && errorMatches(c.ErrorEquals, error));
}
