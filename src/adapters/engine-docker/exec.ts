/** Exec of the Docker engine adapter: a command in a running container, with its output and exit code. */
import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import type { ExecRequest, ExecResult, PreparedExec } from '../../domain/engine/index.js';
import type { ExecApi } from '../../ports/engine.js';
import { BoundedBuffer } from '../../util/bounded-buffer.js';
import { BosunError } from '../../domain/errors.js';
import { PreparedExecs } from '../prepared-execs.js';
import { abortable, bounded } from './call.js';
import { isNotRunning } from './compat-errors.js';
import { engineError, messageOf } from './errors.js';
import { OutputCapture, captured } from './output.js';
import { apiSegment } from './paths.js';
import { drainStream } from './streams.js';

const DEFAULT_OUTPUT_LIMIT = 1024 * 1024;

/** A container that does not run refuses an exec: Docker says 409, Podman 500 "container state improper"; both are `conflict`. */
function execError(e: unknown, what: string): BosunError {
  return isNotRunning(e) ? new BosunError('conflict', `${what}: ${messageOf(e)}`, { cause: e }) : engineError(e, what);
}

export class DockerExec implements ExecApi {
  private readonly prepared = new PreparedExecs();

  constructor(private readonly docker: Docker) {}

  prepare(idOrName: string, req: ExecRequest): Promise<PreparedExec> {
    return bounded(req, undefined, `exec in ${idOrName}`, async (signal) => {
      try {
        return this.prepared.record(req, { id: (await this.create(idOrName, req, signal)).id }, undefined);
      } catch (e) {
        throw signal?.aborted ? e : execError(e, `exec in ${idOrName}`);
      }
    });
  }

  private create(idOrName: string, req: ExecRequest, signal: AbortSignal | undefined): Promise<Docker.Exec> {
    return this.docker.getContainer(apiSegment(idOrName, 'container')).exec(abortable({
      Cmd: req.cmd,
      AttachStdout: !req.detach,
      AttachStderr: !req.detach,
      ...(req.stdin !== undefined && !req.detach ? { AttachStdin: true } : {}),
      ...(req.user ? { User: req.user } : {}),
      ...(req.env ? { Env: req.env } : {}),
      ...(req.workingDir ? { WorkingDir: req.workingDir } : {}),
    }, signal));
  }

  /**
   * With `stopAfterBytes` or a `signal` that ends the reading, the output so far is returned
   * without an exit code (the process may still run; the caller decides its fate).
   */
  run(idOrName: string, req: ExecRequest): Promise<ExecResult> {
    const partial = req.stopAfterBytes !== undefined;
    return bounded(partial ? { ...(req.timeoutMs !== undefined ? { timeoutMs: req.timeoutMs } : {}) } : req, undefined, `exec in ${idOrName}`, async (bsignal) => {
      const cap = new OutputCapture(req.limitBytes ?? DEFAULT_OUTPUT_LIMIT, req.stopAfterBytes, partial ? req.signal : bsignal, req.onOutput);
      const { out, err } = cap;
      const signal = partial ? cap.signal : bsignal;
      if (req.prepared) this.prepared.start(req.prepared, req);
      try {
        const exec = req.prepared ? this.docker.getExec(req.prepared.id) : await this.create(idOrName, req, bsignal);
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
        const stream = (await exec.start({ hijack: true, stdin: false })) as unknown as Readable & { end?: (data: string | Buffer) => void };
        req.onStarted?.();
        // Written to the hijacked socket and half-closed: the command reads it, then EOF.
        if (req.stdin !== undefined) stream.end?.(req.stdin);
        await drainStream(this.docker, stream, false, out, err, signal);
        if (partial && cap.signal.aborted) return { output: cap.result() };
        const info = await exec.inspect();
        // Docker answers the start (101) before it starts the process, and writes a failed start
        // ("container … is not running") into the stream: no exit code and not running means it never ran.
        if ((info.ExitCode === null || info.ExitCode === undefined) && !info.Running) {
          throw new BosunError('conflict', `exec in ${idOrName} did not start: ${cap.result().stdout.trim().slice(0, 200) || 'the container is not running'}`, { details: { notStarted: true } });
        }
        return { exitCode: info.ExitCode ?? -1, output: cap.result() };
      } catch (e) {
        if (partial && cap.signal.aborted) return { output: cap.result() };
        throw signal?.aborted ? e : execError(e, `exec in ${idOrName}`);
      }
    });
  }
}
