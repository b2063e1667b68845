/**
 * The one reply envelope every channel answers with. snake_case, as the seeds' messages are.
 */
import type { BosunError, ErrorCode } from './errors.js';

export interface ReplyError {
  code: ErrorCode;
  message: string;
  /** Dotted path of the offending field, when one is to blame. */
  field?: string;
  details?: unknown;
}

export interface ReplyEnvelope {
  ok: boolean;
  action: string;
  request_id: string;
  /** Run ledger: which start of this request this is, present from 2 on (another agent started it before, and its lease expired). */
  attempt?: number;
  container?: { id?: string; name?: string };
  exit_code?: number;
  stdout?: string;
  stderr?: string;
  /** True when stdout/stderr were cut at the configured limit (sizes say how much there was). */
  truncated?: boolean;
  stdout_bytes?: number;
  stderr_bytes?: number;
  /** Attached runs: served by a prewarmed container (warm pool). */
  warm?: boolean;
  /** Attached runs with stream: true: the live-output chunks published before this envelope. */
  streamed?: { chunks: number; bytes: number; truncated: boolean };
  duration_ms: number;
  /** Action-specific payload (status, per-container results, …). */
  result?: unknown;
  error?: ReplyError;
}

export function errorOf(e: BosunError): ReplyError {
  return {
    code: e.code,
    message: e.message,
    ...(e.field !== undefined ? { field: e.field } : {}),
    ...(e.details !== undefined ? { details: e.details } : {}),
  };
}
