/**
 * Per-container progress for the CLI: on a terminal a live table redrawn in place, one
 * line per container; when piped, plain timestamped lines as things happen.
 */
import type { ProgressEvent } from './execute.js';

export interface ProgressSink {
  event(e: ProgressEvent): void;
  end(): void;
}

export function progressSink(out: NodeJS.WriteStream): ProgressSink {
  if (!out.isTTY) {
    return {
      event: (e) => out.write(`${new Date().toISOString()} ${e.container} ${e.phase}${e.op ? ` ${e.op}` : ''}${e.message ? `: ${e.message}` : ''}\n`),
      end: () => undefined,
    };
  }
  const lines = new Map<string, string>();
  let drawn = 0;
  const draw = () => {
    if (drawn) out.write(`\x1b[${drawn}A`);
    for (const [c, s] of lines) out.write(`\x1b[2K${c.padEnd(32)} ${s}\n`);
    drawn = lines.size;
  };
  const mark = { op: '…', done: '✔', failed: '✘', skipped: '–' } as const;
  return {
    event: (e) => {
      lines.set(e.container, `${mark[e.phase]} ${e.op ?? ''}${e.message ? ` ${e.message}` : ''}`.slice(0, (out.columns ?? 100) - 34));
      draw();
    },
    end: () => undefined,
  };
}
