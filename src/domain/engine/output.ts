/** Reading a container's output: logs, attach and exec. */
import type { CallOptions } from './call.js';

export interface LogsRequest extends CallOptions {
  stdout?: boolean;
  stderr?: boolean;
  /** Keep following until the container stops. */
  follow?: boolean;
  /** At most this many bytes are kept per stream; the rest is counted and marked truncated. */
  limitBytes?: number;
  /** The container's TTY mode when the caller knows it (saves an inspect). */
  tty?: boolean;
  /** Prefix each line with its RFC 3339 timestamp. */
  timestamps?: boolean;
  /** Only the last N lines of the log. */
  tail?: number;
  /** Stop reading once stdout+stderr together pass this many bytes (the result says `overLimit`). */
  stopAfterBytes?: number;
}

export interface AttachRequest extends CallOptions {
  /** At most this many bytes are kept per stream; the rest is counted and marked truncated. */
  limitBytes?: number;
  /** Stop reading once stdout+stderr together pass this many bytes (the result says `overLimit`). */
  stopAfterBytes?: number;
  /** The container's TTY mode when the caller knows it (saves an inspect). */
  tty?: boolean;
}

export interface CapturedOutput {
  stdout: string;
  stderr: string;
  stdoutBytes: number;
  stderrBytes: number;
  truncated: boolean;
  /** Reading stopped because the output passed `stopAfterBytes`. */
  overLimit?: boolean;
}

export interface ExecRequest extends CallOptions {
  cmd: string[];
  user?: string;
  env?: string[];
  workingDir?: string;
  /** At most this many bytes are kept per stream (default 1 MiB). */
  limitBytes?: number;
  /**
   * Stop reading once stdout+stderr together pass this many bytes (the output says `overLimit`).
   * When set, an abort of `signal` also returns the output so far (no exit code) instead of throwing.
   */
  stopAfterBytes?: number;
  /** Run in the background and return at once (exitCode undefined). */
  detach?: boolean;
}

export interface ExecResult {
  exitCode?: number;
  output: CapturedOutput;
}

