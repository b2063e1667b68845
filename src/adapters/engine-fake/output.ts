/** Captured output of a fake container: chunks in order, read back with bosun's bounds. */
import type { CapturedOutput, OnOutput } from '../../domain/engine/index.js';

export interface Chunk {
  stream: 'stdout' | 'stderr';
  data: string;
  timeMs: number;
}

export interface CaptureBounds {
  stdout?: boolean;
  stderr?: boolean;
  limitBytes?: number;
  stopAfterBytes?: number;
  tail?: number;
  timestamps?: boolean;
}

const DEFAULT_LIMIT = 1024 * 1024;

/** Keeps the first `limitBytes` per stream, counts all, stops once both pass `stopAfterBytes`. */
export function capture(chunks: readonly Chunk[], b: CaptureBounds = {}): CapturedOutput {
  const limit = b.limitBytes ?? DEFAULT_LIMIT;
  const kept = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  const keptBytes = { stdout: 0, stderr: 0 };
  const total = { stdout: 0, stderr: 0 };
  let overLimit = false;
  for (const c of tailed(chunks, b.tail)) {
    if (c.stream === 'stdout' && b.stdout === false) continue;
    if (c.stream === 'stderr' && b.stderr === false) continue;
    const text = b.timestamps ? stamp(c) : c.data;
    const buf = Buffer.from(text, 'utf8');
    total[c.stream] += buf.length;
    const room = limit - keptBytes[c.stream];
    if (room > 0) {
      const part = buf.length <= room ? buf : buf.subarray(0, room);
      kept[c.stream].push(part);
      keptBytes[c.stream] += part.length;
    }
    if (b.stopAfterBytes !== undefined && total.stdout + total.stderr > b.stopAfterBytes) {
      overLimit = true;
      break;
    }
  }
  return {
    stdout: Buffer.concat(kept.stdout).toString('utf8'),
    stderr: Buffer.concat(kept.stderr).toString('utf8'),
    stdoutBytes: total.stdout,
    stderrBytes: total.stderr,
    truncated: total.stdout > keptBytes.stdout || total.stderr > keptBytes.stderr,
    ...(overLimit ? { overLimit: true } : {}),
  };
}

function stamp(c: Chunk): string {
  const at = new Date(c.timeMs).toISOString();
  return c.data.split(/(?<=\n)/).map((line) => `${at} ${line}`).join('');
}

/** The last `tail` lines, counted over both streams as Docker does. */
function tailed(chunks: readonly Chunk[], tail: number | undefined): Chunk[] {
  const lines = chunks.flatMap((c) => c.data.split(/(?<=\n)/).filter((l) => l !== '').map((data) => ({ ...c, data })));
  return tail === undefined || tail < 0 ? lines : lines.slice(Math.max(0, lines.length - tail));
}

/** True once these chunks pass `stopAfterBytes` (an attach or follow stops reading there). */
export function passedLimit(chunks: readonly Chunk[], stopAfterBytes: number | undefined): boolean {
  if (stopAfterBytes === undefined) return false;
  return chunks.reduce((n, c) => n + Buffer.byteLength(c.data), 0) > stopAfterBytes;
}

/** What a reader of chunks listens on: a container's chunks and its listeners (exit, new chunk). */
export interface ChunkSource {
  chunks: Chunk[];
  listeners: Set<(why: 'exit' | 'chunk') => void>;
}

/**
 * Hands each chunk from index `from` on to `onOutput` as it is written (live output), up to the
 * chunk that passes `stopAfterBytes`; returns the function that stops it (after a last delivery).
 */
export function feedOutput(c: ChunkSource, from: number, onOutput: OnOutput, stopAfterBytes?: number): () => void {
  let next = from;
  let bytes = 0;
  const deliver = () => {
    while (next < c.chunks.length && (stopAfterBytes === undefined || bytes <= stopAfterBytes)) {
      const chunk = c.chunks[next++]!;
      bytes += Buffer.byteLength(chunk.data);
      onOutput({ stream: chunk.stream, data: Buffer.from(chunk.data, 'utf8') });
    }
  };
  const listener = () => deliver();
  c.listeners.add(listener);
  deliver();
  return () => {
    deliver();
    c.listeners.delete(listener);
  };
}
