/**
 * Typed errors with stable codes. Callers decide on `code`, never on message text.
 * `field` names the offending message field where there is one.
 */
export const ERROR_CODES = [
  'bad_json',
  'invalid_message',
  'unknown_channel',
  'policy_denied',
  'not_found',
  'image_not_found',
  'conflict',
  'engine_unavailable',
  'engine_error',
  'build_failed',
  'pull_failed',
  'timeout',
  'nonzero_exit',
  'output_limit',
  'broker_error',
  'store_error',
  'message_too_large',
  'redelivery_limit',
  'publisher_unknown',
  'quota_exceeded',
  'invalid_task_token',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class BosunError extends Error {
  readonly code: ErrorCode;
  readonly field?: string;
  readonly details?: unknown;
  /** False when retrying the same request cannot help (bad input, policy). */
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, opts: { field?: string; details?: unknown; retryable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'BosunError';
    this.code = code;
    if (opts.field !== undefined) this.field = opts.field;
    if (opts.details !== undefined) this.details = opts.details;
    this.retryable = opts.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
  }
}

const RETRYABLE_BY_DEFAULT: ReadonlySet<ErrorCode> = new Set(['engine_unavailable', 'broker_error', 'store_error', 'timeout']);

export function isBosunError(e: unknown): e is BosunError {
  return e instanceof BosunError;
}

/** Wraps anything thrown into a BosunError, keeping the original as `cause`. */
export function toBosunError(e: unknown, fallback: ErrorCode = 'internal'): BosunError {
  if (e instanceof BosunError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new BosunError(fallback, message, { cause: e });
}
