/** Exec of the Docker engine adapter: a command in a running container, with its output and exit code. */
import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import type { ExecRequest, ExecResult } from '../../domain/engine/index.js';
import type { ExecApi } from '../../ports/engine.js';
import { BoundedBuffer } from '../../util/bounded-buffer.js';
import { abortable, bounded } from './call.js';
import { engineError } from './errors.js';
import { captured } from './output.js';
import { apiSegment } from './paths.js';
import { drainStream } from './streams.js';

const DEFAULT_OUTPUT_LIMIT = 1024 * 1024;

export class DockerExec implements ExecApi {
  constructor(private readonly docker: Docker) {}

  run(idOrName: string, req: ExecRequest): Promise<ExecResult> {
    return bounded(req, undefined, `exec in ${idOrName}`, async (signal) => {
      const out = new BoundedBuffer(DEFAULT_OUTPUT_LIMIT);
      const err = new BoundedBuffer(DEFAULT_OUTPUT_LIMIT);
      try {
        const exec = await this.docker.getContainer(apiSegment(idOrName, 'container')).exec(abortable({
          Cmd: req.cmd,
          AttachStdout: !req.detach,
          AttachStderr: !req.detach,
          ...(req.user ? { User: req.user } : {}),
          ...(req.env ? { Env: req.env } : {}),
        }, signal));
        if (req.detach) {
          // dockerode answers with a stream even when detached; left unread, its socket keeps the process alive.
          const stream = (await exec.start({ Detach: true })) as unknown as Readable | undefined;
          if (stream?.resume) {
            await new Promise<void>((resolve) => {
              stream.once('end', resolve).once('close', resolve).once('error', () => resolve());
              stream.resume();
            });
          }
          return { output: captured(out, err) };
        }
        const stream = (await exec.start({ hijack: true, stdin: false })) as unknown as Readable;
        await drainStream(this.docker, stream, false, out, err, signal);
        const info = await exec.inspect();
        return { exitCode: info.ExitCode ?? -1, output: captured(out, err) };
      } catch (e) {
        throw signal?.aborted ? e : engineError(e, `exec in ${idOrName}`);
      }
    });
  }
}
