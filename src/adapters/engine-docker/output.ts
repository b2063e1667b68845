/** Captured container output: two bounded streams (stdout, stderr), optionally cut past a total. */
import type { CapturedOutput, OnOutput } from '../../domain/engine/index.js';
import { BoundedBuffer } from '../../util/bounded-buffer.js';

/** Two bounded streams counted together: past `stopAfter` bytes the reader's signal aborts. */
export class OutputCapture {
  readonly out: BoundedBuffer;
  readonly err: BoundedBuffer;
  readonly signal: AbortSignal;
  overLimit = false;
  private readonly cut = new AbortController();

  constructor(limit: number, private readonly stopAfter: number | undefined, outer: AbortSignal | undefined, onOutput?: OnOutput) {
    const onChunk = () => {
      if (this.stopAfter === undefined || this.overLimit || this.out.total + this.err.total <= this.stopAfter) return;
      this.overLimit = true;
      this.cut.abort();
    };
    this.out = new BoundedBuffer(limit, (data) => {
      onOutput?.({ stream: 'stdout', data });
      onChunk();
    });
    this.err = new BoundedBuffer(limit, (data) => {
      onOutput?.({ stream: 'stderr', data });
      onChunk();
    });
    this.signal = outer ? AbortSignal.any([outer, this.cut.signal]) : this.cut.signal;
  }

  result(): CapturedOutput {
    return { ...captured(this.out, this.err), ...(this.overLimit ? { overLimit: true } : {}) };
  }
}

export function captured(out: BoundedBuffer, err: BoundedBuffer): CapturedOutput {
  return {
    stdout: out.text(),
    stderr: err.text(),
    stdoutBytes: out.total,
    stderrBytes: err.total,
    truncated: out.truncated || err.truncated,
  };
}

