import { Writable } from 'node:stream';

/** Keeps the first `limit` bytes written to it and counts the rest. */
export class BoundedBuffer extends Writable {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  total = 0;

  /** `onChunk` runs after each write is counted, with what was written (live output; stopping a reader past a total). */
  constructor(private readonly limit: number, private readonly onChunk?: (chunk: Buffer) => void) {
    super();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.total += chunk.length;
    const room = this.limit - this.kept;
    if (room > 0) {
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      this.chunks.push(part);
      this.kept += part.length;
    }
    this.onChunk?.(chunk);
    cb();
  }

  get truncated(): boolean {
    return this.total > this.kept;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
