/** Reading a container's output: logs, attach and exec. */
import type { CallOptions } from './call.js';

/** One piece of a container's output as the engine delivered it (a Docker frame, a pipe read). */
export interface OutputChunk {
  stream: 'stdout' | 'stderr';
  data: Buffer;
}

/**
 * Called with every piece of output as it is read, in the order the engine delivered it, while
 * the process runs (live output). It sees what is read, past `limitBytes` too; must not throw.
 */
export type OnOutput = (chunk: OutputChunk) => void;

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
  /** Each piece of output as it is read (with `follow`, live until the container stops). */
  onOutput?: OnOutput;
}

export interface AttachRequest extends CallOptions {
  /** At most this many bytes are kept per stream; the rest is counted and marked truncated. */
  limitBytes?: number;
  /** Stop reading once stdout+stderr together pass this many bytes (the result says `overLimit`). */
  stopAfterBytes?: number;
  /** The container's TTY mode when the caller knows it (saves an inspect). */
  tty?: boolean;
  /** Each piece of output as it is read, while the container runs. */
  onOutput?: OnOutput;
  /**
   * Written to the container's stdin, which is then closed (EOF). The container must have been
   * created with `openStdin` and `stdinOnce`; attach before start so the process sees all of it.
   */
  stdin?: string | Buffer;
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
  /** Each piece of output as it is read, while the command runs. */
  onOutput?: OnOutput;
  /** Written to the command's stdin, which is then closed (EOF). */
  stdin?: string | Buffer;
  /** Called once the command has been started (not for a detached exec). */
  onStarted?: () => void;
  /**
   * The exec made beforehand by `exec.prepare`: only started now. Its command, user, environment,
   * working directory and whether it takes stdin are the ones it was prepared with.
   */
  prepared?: PreparedExec;
}

/** An exec the engine made and has not started: nothing of it runs yet. */
export interface PreparedExec {
  readonly id: string;
}

export interface ExecResult {
  exitCode?: number;
  output: CapturedOutput;
}

