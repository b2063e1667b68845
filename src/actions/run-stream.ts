/**
 * Live output of an attached run (`stream: true`): the engine's output pieces become
 * `{request_id, seq, stream, data}` chunks on the reply path, in order and bounded — each chunk
 * at most `chunkBytes`, at most `chunksPerSecond` of them in any second while the run goes on
 * (output arriving faster is coalesced into bigger chunks), at most `totalBytes` in all, then one
 * `{request_id, seq, truncated: true}` chunk and no more. The final envelope follows the last chunk.
 */
import { StringDecoder } from 'node:string_decoder';
import type { OutputChunk } from '../domain/engine/index.js';

export interface StreamLimits {
  /** Most bytes of data in one chunk (UTF-8; a chunk is cut at a line end when it can be). */
  chunkBytes: number;
  /** Most chunks published in any one second while the run goes on. */
  chunksPerSecond: number;
  /** How long output is collected before it is published (coalescing). */
  windowMs: number;
  /** Most bytes of data streamed per run; what comes after is only in the final envelope. */
  totalBytes: number;
  /** Most pieces waiting to be published; past it the stream is cut as at totalBytes (a reader that cannot keep up). */
  pendingPieces: number;
}

export const STREAM_LIMITS: StreamLimits = { chunkBytes: 16 * 1024, chunksPerSecond: 20, windowMs: 50, totalBytes: 1024 * 1024, pendingPieces: 256 };

export interface DataChunk {
  request_id: string;
  seq: number;
  stream: 'stdout' | 'stderr';
  data: string;
}

export interface TruncatedChunk {
  request_id: string;
  seq: number;
  truncated: true;
  /** Why: the run's output passed `totalBytes`, or more was waiting than `pendingPieces`. */
  reason: 'total_bytes' | 'backlog';
  limit_bytes: number;
}

export type StreamChunk = DataChunk | TruncatedChunk;

/** What the final envelope says of the stream (`streamed`). */
export interface StreamSummary {
  chunks: number;
  bytes: number;
  truncated: boolean;
}

/** Timers as a port, so tests drive the coalescing and the rate without waiting. */
export interface StreamTimers {
  now(): number;
  after(ms: number, fn: () => void): () => void;
}

export const realTimers: StreamTimers = {
  now: () => Date.now(),
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

interface Piece {
  stream: 'stdout' | 'stderr';
  text: string;
}

export class OutputStreamer {
  private readonly limits: StreamLimits;
  private readonly timers: StreamTimers;
  private readonly onError: ((err: unknown) => void) | undefined;
  private readonly decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  private readonly pending: Piece[] = [];
  /** When the last `chunksPerSecond` chunks went out. */
  private readonly sentAt: number[] = [];
  private accepted = 0;
  private cut: TruncatedChunk['reason'] | undefined;
  private cutSent = false;
  private seq = 0;
  /** Published (confirmed) chunks and their data bytes. */
  private published = 0;
  private bytes = 0;
  private cancelTimer: (() => void) | undefined;
  private chain: Promise<void> = Promise.resolve();
  private failed: unknown;
  private closed = false;

  constructor(
    private readonly requestId: string,
    private readonly publish: (chunk: StreamChunk) => Promise<void>,
    o: { limits?: Partial<StreamLimits>; timers?: StreamTimers; onError?: (err: unknown) => void } = {},
  ) {
    this.limits = { ...STREAM_LIMITS, ...o.limits };
    this.timers = o.timers ?? realTimers;
    this.onError = o.onError;
  }

  /** The engine's OnOutput: takes a piece of output (never throws). */
  readonly onOutput = (c: OutputChunk): void => {
    if (this.closed || this.cut) return;
    // Counted as published (UTF-8 of the decoded text): bytes that are not UTF-8 become U+FFFD, 3 bytes each.
    this.take(c.stream, this.decoders[c.stream].write(c.data));
    this.schedule();
  };

  private take(stream: Piece['stream'], text: string): void {
    const room = this.limits.totalBytes - this.accepted;
    const n = Buffer.byteLength(text);
    const kept = n > room ? headBytes(text, room) : text;
    this.accepted += n > room ? Buffer.byteLength(kept) : n;
    this.add(stream, kept);
    if (n > room) this.cutAt('total_bytes');
  }

  /** The run ended: what waits goes out now (the rate applies while it runs), then the summary. */
  async finish(): Promise<StreamSummary> {
    if (!this.closed) {
      this.closed = true;
      this.cancelTimer?.();
      for (const s of ['stdout', 'stderr'] as const) if (!this.cut) this.take(s, this.decoders[s].end());
      this.flush(Infinity);
    }
    await this.chain;
    return { chunks: this.published, bytes: this.bytes, truncated: this.cut !== undefined };
  }

  /** The run was abandoned (shutdown): nothing more is published. */
  abort(): void {
    this.closed = true;
    this.cancelTimer?.();
    this.pending.length = 0;
  }

  private add(stream: Piece['stream'], text: string): void {
    if (!text) return;
    const last = this.pending.at(-1);
    if (last && last.stream === stream) last.text += text;
    else if (this.pending.length >= this.limits.pendingPieces) this.cutAt('backlog');
    else this.pending.push({ stream, text });
  }

  private cutAt(reason: TruncatedChunk['reason']): void {
    this.cut ??= reason;
  }

  private schedule(): void {
    if (this.cancelTimer || this.closed || (this.pending.length === 0 && (!this.cut || this.cutSent))) return;
    const now = this.timers.now();
    const wait = Math.max(this.limits.windowMs, this.nextSlot(now) - now);
    this.cancelTimer = this.timers.after(wait, () => {
      this.cancelTimer = undefined;
      this.flush(this.freeSlots(this.timers.now()));
      this.schedule();
    });
  }

  /** The time at which one more chunk keeps to chunksPerSecond. */
  private nextSlot(now: number): number {
    const n = this.limits.chunksPerSecond;
    return this.sentAt.length < n ? now : (this.sentAt[this.sentAt.length - n] ?? now) + 1000;
  }

  private freeSlots(now: number): number {
    return this.limits.chunksPerSecond - this.sentAt.filter((t) => t > now - 1000).length;
  }

  /** Publishes up to `slots` chunks of what waits, in order; then the truncated marker once nothing of the kept output waits. */
  private flush(slots: number): void {
    while (slots > 0 && this.pending.length > 0) {
      const piece = this.pending[0]!;
      const [head, rest] = splitAt(piece.text, this.limits.chunkBytes);
      if (rest) piece.text = rest;
      else this.pending.shift();
      this.send({ request_id: this.requestId, seq: this.seq, stream: piece.stream, data: head });
      slots--;
    }
    if (slots > 0 && this.cut && !this.cutSent && this.pending.length === 0) {
      this.cutSent = true;
      this.send({ request_id: this.requestId, seq: this.seq, truncated: true, reason: this.cut, limit_bytes: this.limits.totalBytes });
    }
  }

  private send(chunk: StreamChunk): void {
    this.seq++;
    const now = this.timers.now();
    this.sentAt.push(now);
    if (this.sentAt.length > this.limits.chunksPerSecond) this.sentAt.shift();
    this.chain = this.chain.then(async () => {
      if (this.failed !== undefined) return;
      try {
        await this.publish(chunk);
        this.published++;
        if ('data' in chunk) this.bytes += Buffer.byteLength(chunk.data);
      } catch (e) {
        // The reply path is gone or refuses: no more chunks; the final envelope says how many went out.
        this.failed = e;
        this.onError?.(e);
        this.abort();
      }
    });
  }
}

/** The first at most `maxBytes` of `text` (cut after a newline when one is in reach, never inside a character) and the rest. */
export function splitAt(text: string, maxBytes: number): [string, string] {
  if (Buffer.byteLength(text) <= maxBytes) return [text, ''];
  let end = 0;
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > maxBytes) break;
    bytes += n;
    end += ch.length;
  }
  const nl = text.lastIndexOf('\n', end - 1);
  const at = nl >= 0 ? nl + 1 : Math.max(end, 1);
  return [text.slice(0, at), text.slice(at)];
}

/** The longest start of `text` of at most `maxBytes` bytes of UTF-8, never inside a character. */
export function headBytes(text: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > maxBytes) break;
    bytes += n;
    end += ch.length;
  }
  return text.slice(0, end);
}
