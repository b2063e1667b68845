/** Reads a container's (or an exec's) multiplexed output stream into two bounded buffers. */
import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import type { BoundedBuffer } from '../../util/bounded-buffer.js';

export function drainStream(docker: Docker, stream: Readable, tty: boolean, out: BoundedBuffer, err: BoundedBuffer, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (tty) stream.pipe(out);
    else docker.modem.demuxStream(stream, out, err);
    const onAbort = () => stream.destroy();
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    stream.on('end', done);
    stream.on('close', done);
    stream.on('error', (e) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) resolve();
      else reject(e);
    });
  });
}
