/**
 * The dockerode implementation of ContainerEngine. The only file (with its siblings
 * in this folder) that imports dockerode.
 */
import Docker from 'dockerode';
import type { Readable } from "node:stream";
import { BosunError } from '../../domain/errors.js';
import type {
  AttachRequest, BuildRequest, BuildResult, CapturedOutput, ContainerDetails, ContainerEngine, ContainerSpec, ContainerSummary, EngineEvent, EngineInfo,
  EventsRequest, ExecRequest, ExecResult, ImageDetails, ListFilter, LogsRequest, NetworkSpec, ProcessEntry, PullRequest, ResourceLimits,
  RestartPolicy,
} from '../../ports/engine.js';
import { BoundedBuffer } from '../../util/bounded-buffer.js';
import { OutputCapture, captured } from './output.js';
import { engineError, messageOf, statusOf } from './errors.js';
import { inspectToDetails, labelFilters, resourcesToHostConfig, restartPolicyToApi, specToCreateOptions, summaryFromApi } from './mapping.js';
import { buildImage, inspectImage, pullImage, removeImage } from './images.js';
import { connectNetwork, disconnectNetwork, ensureNetwork, ensureVolume, removeNetwork, removeVolume } from './networks.js';
import { readEventStream } from './events.js';
import { apiSegment } from './paths.js';

const DEFAULT_LOG_LIMIT = 1024 * 1024;

export interface DockerEngineOptions {
  /** As the docker CLI reads it: unix:///path, tcp://host:port, or a bare socket path / host:port (seed 003). */
  host?: string;
}

/** Parses DOCKER_HOST-style addresses into dockerode's connection options. */
export function dockerConnection(host: string | undefined): Docker.DockerOptions {
  if (!host) return { socketPath: '/var/run/docker.sock' };
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  if (host.startsWith('/')) return { socketPath: host };
  const url = new URL(host.includes('://') ? host.replace(/^tcp:/, 'http:') : `http://${host}`);
  return { host: url.hostname, port: Number(url.port || 2375), protocol: url.protocol === 'https:' ? 'https' : 'http' };
}

export class DockerEngine implements ContainerEngine {
  readonly docker: Docker;

  constructor(opts: DockerEngineOptions = {}) {
    this.docker = new Docker(dockerConnection(opts.host ?? process.env.DOCKER_HOST));
  }

  /** A dockerode container whose id is safe to paste into an API path (see paths.ts). */
  private container(idOrName: string): Docker.Container {
    return this.docker.getContainer(apiSegment(idOrName, 'container'));
  }

  async info(): Promise<EngineInfo> {
    try {
      const [info, version] = await Promise.all([this.docker.info(), this.docker.version()]);
      return {
        id: String(info.ID ?? ''),
        name: String(info.Name ?? ''),
        serverVersion: version.Version,
        apiVersion: version.ApiVersion,
        cpus: Number(info.NCPU ?? 0),
        memoryBytes: Number(info.MemTotal ?? 0),
      };
    } catch (e) {
      throw engineError(e, 'engine info');
    }
  }

  async createContainer(spec: ContainerSpec): Promise<{ id: string }> {
    let id: string;
    try {
      const c = await this.docker.createContainer(specToCreateOptions(spec));
      id = c.id;
    } catch (e) {
      const msg = messageOf(e);
      if (statusOf(e) === 404 && /image/i.test(msg)) throw new BosunError('image_not_found', `image ${spec.image} not found locally`, { field: 'image', cause: e });
      throw engineError(e, `create container ${spec.name ?? spec.image}`);
    }
    if (!spec.networkMode) {
      for (const net of (spec.networks ?? []).slice(1)) await this.connectNetwork(net.name, id, net.aliases ? { aliases: net.aliases } : {});
    }
    return { id };
  }

  async startContainer(idOrName: string): Promise<void> {
    try {
      await this.container(idOrName).start();
    } catch (e) {
      if (statusOf(e) === 304) return;
      throw engineError(e, `start ${idOrName}`);
    }
  }

  async stopContainer(idOrName: string, opts: { timeoutSec?: number } = {}): Promise<void> {
    try {
      await this.container(idOrName).stop(opts.timeoutSec !== undefined ? { t: opts.timeoutSec } : {});
    } catch (e) {
      if (statusOf(e) === 304) return;
      throw engineError(e, `stop ${idOrName}`);
    }
  }

  async killContainer(idOrName: string, signal = 'SIGKILL'): Promise<void> {
    try {
      await this.container(idOrName).kill({ signal });
    } catch (e) {
      if (statusOf(e) === 409 && /not running/i.test(messageOf(e))) return;
      throw engineError(e, `kill ${idOrName}`);
    }
  }

  async restartContainer(idOrName: string, opts: { timeoutSec?: number } = {}): Promise<void> {
    try {
      await this.container(idOrName).restart(opts.timeoutSec !== undefined ? { t: opts.timeoutSec } : {});
    } catch (e) {
      throw engineError(e, `restart ${idOrName}`);
    }
  }

  async removeContainer(idOrName: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    try {
      await this.container(idOrName).remove({ force: opts.force ?? false, v: opts.volumes ?? false });
    } catch (e) {
      if (statusOf(e) === 404) return;
      if (statusOf(e) === 409 && /already in progress/i.test(messageOf(e))) return;
      throw engineError(e, `remove ${idOrName}`);
    }
  }

  async waitContainer(idOrName: string, opts: { signal?: AbortSignal } = {}): Promise<{ exitCode: number }> {
    try {
      const r = (await this.container(idOrName).wait(opts.signal ? { abortSignal: opts.signal } : {})) as { StatusCode: number };
      return { exitCode: r.StatusCode };
    } catch (e) {
      if (opts.signal?.aborted) throw new BosunError('timeout', `wait for ${idOrName} aborted`, { cause: e });
      throw engineError(e, `wait ${idOrName}`);
    }
  }

  async inspectContainer(idOrName: string): Promise<ContainerDetails | undefined> {
    try {
      return inspectToDetails(await this.container(idOrName).inspect());
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw engineError(e, `inspect ${idOrName}`);
    }
  }

  async listContainers(filter: ListFilter = {}): Promise<ContainerSummary[]> {
    const filters: Record<string, string[]> = {};
    const labels = labelFilters(filter.labels);
    if (labels.length) filters.label = labels;
    if (filter.name) filters.name = [filter.name];
    if (filter.status?.length) filters.status = filter.status;
    try {
      const list = await this.docker.listContainers({ all: filter.all ?? true, filters: JSON.stringify(filters) });
      return list.map(summaryFromApi);
    } catch (e) {
      throw engineError(e, 'list containers');
    }
  }

  async updateContainer(idOrName: string, update: { resources?: ResourceLimits; restartPolicy?: RestartPolicy }): Promise<void> {
    const body: Record<string, unknown> = { ...resourcesToHostConfig(update.resources) };
    const rp = restartPolicyToApi(update.restartPolicy);
    if (rp) body.RestartPolicy = rp;
    try {
      await this.container(idOrName).update(body);
    } catch (e) {
      throw engineError(e, `update ${idOrName}`);
    }
  }

  async renameContainer(idOrName: string, newName: string): Promise<void> {
    try {
      await this.container(idOrName).rename({ name: newName });
    } catch (e) {
      throw engineError(e, `rename ${idOrName}`);
    }
  }

  async logs(idOrName: string, req: LogsRequest = {}): Promise<CapturedOutput> {
    const container = this.container(idOrName);
    const cap = new OutputCapture(req.limitBytes ?? DEFAULT_LOG_LIMIT, req.stopAfterBytes, req.signal);
    try {
      const tty = req.tty ?? (await container.inspect()).Config.Tty;
      const stream = (await container.logs({
        stdout: req.stdout ?? true,
        stderr: req.stderr ?? true,
        follow: true,
        ...(req.follow ? {} : { until: Math.floor(Date.now() / 1000) + 1 }),
        ...(req.timestamps ? { timestamps: true } : {}),
        ...(req.tail !== undefined ? { tail: req.tail } : {}),
        abortSignal: cap.signal,
      })) as unknown as Readable;
      await this.drain(stream, tty, cap.out, cap.err, cap.signal);
    } catch (e) {
      if (req.signal?.aborted) throw new BosunError('timeout', `logs of ${idOrName} aborted`, { cause: e });
      if (!cap.overLimit) throw engineError(e, `logs ${idOrName}`);
    }
    return cap.result();
  }

  async attach(idOrName: string, req: AttachRequest = {}): Promise<{ output: Promise<CapturedOutput> }> {
    const container = this.container(idOrName);
    const cap = new OutputCapture(req.limitBytes ?? DEFAULT_LOG_LIMIT, req.stopAfterBytes, req.signal);
    let stream: Readable;
    let tty: boolean;
    try {
      tty = req.tty ?? (await container.inspect()).Config.Tty;
      stream = (await container.attach({ stream: true, stdout: true, stderr: true, abortSignal: cap.signal } as Docker.ContainerAttachOptions)) as unknown as Readable;
    } catch (e) {
      throw engineError(e, `attach to ${idOrName}`);
    }
    const output = this.drain(stream, tty, cap.out, cap.err, cap.signal).then(
      () => cap.result(),
      (e: unknown) => {
        if (cap.overLimit) return cap.result();
        throw engineError(e, `attach to ${idOrName}`);
      },
    );
    return { output };
  }

  private drain(stream: Readable, tty: boolean, out: BoundedBuffer, err: BoundedBuffer, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (tty) stream.pipe(out);
      else this.docker.modem.demuxStream(stream, out, err);
      const onAbort = () => stream.destroy();
      if (signal?.aborted) onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      stream.on('end', () => resolve());
      stream.on('close', () => resolve());
      stream.on('error', (e) => (signal?.aborted ? resolve() : reject(e)));
    });
  }

  async exec(idOrName: string, req: ExecRequest): Promise<ExecResult> {
    const cap = new OutputCapture(req.limitBytes ?? DEFAULT_LOG_LIMIT, req.stopAfterBytes, req.signal);
    try {
      const exec = await this.container(idOrName).exec({
        Cmd: req.cmd,
        AttachStdout: !req.detach,
        AttachStderr: !req.detach,
        ...(req.user ? { User: req.user } : {}),
        ...(req.env ? { Env: req.env } : {}),
        ...(req.workingDir ? { WorkingDir: req.workingDir } : {}),
      });
      if (req.detach) {
        // dockerode answers with a stream even when detached; left unread, its socket keeps the process alive.
        const stream = (await exec.start({ Detach: true })) as unknown as Readable | undefined;
        if (stream?.resume) {
          await new Promise<void>((resolve) => {
            stream.once('end', resolve).once('close', resolve).once('error', () => resolve());
            stream.resume();
          });
        }
        return { output: cap.result() };
      }
      const stream = (await exec.start({ hijack: true, stdin: false })) as unknown as Readable;
      await this.drain(stream, false, cap.out, cap.err, cap.signal);
      // Cut short (output limit, caller's signal): the process may still run; the caller decides its fate.
      if (cap.signal.aborted) return { output: cap.result() };
      const info = await exec.inspect();
      return { exitCode: info.ExitCode ?? -1, output: cap.result() };
    } catch (e) {
      if (req.signal?.aborted) throw new BosunError('timeout', `exec in ${idOrName} aborted`, { cause: e });
      throw engineError(e, `exec in ${idOrName}`);
    }
  }

  async top(idOrName: string): Promise<ProcessEntry[]> {
    try {
      const r = (await this.container(idOrName).top({ ps_args: '-o pid,user,args' })) as { Titles: string[]; Processes: string[][] };
      const col = (name: string, fallback: number) => {
        const i = r.Titles.findIndex((t) => t.toUpperCase() === name);
        return i >= 0 ? i : fallback;
      };
      const [pid, user, cmd] = [col('PID', 0), col('USER', 1), r.Titles.length - 1];
      return (r.Processes ?? []).map((p) => ({ pid: p[pid] ?? '', user: p[user] ?? '', command: p[cmd] ?? '' }));
    } catch (e) {
      throw engineError(e, `top ${idOrName}`);
    }
  }

  inspectImage(ref: string): Promise<ImageDetails | undefined> {
    return inspectImage(this.docker, ref);
  }

  pullImage(req: PullRequest): Promise<ImageDetails> {
    return pullImage(this.docker, req);
  }

  buildImage(req: BuildRequest): Promise<BuildResult> {
    return buildImage(this.docker, req);
  }

  removeImage(ref: string, opts: { force?: boolean } = {}): Promise<void> {
    return removeImage(this.docker, ref, opts);
  }

  ensureNetwork(spec: NetworkSpec): Promise<string> {
    return ensureNetwork(this.docker, spec);
  }

  removeNetwork(name: string): Promise<void> {
    return removeNetwork(this.docker, name);
  }

  connectNetwork(network: string, container: string, opts: { aliases?: string[] } = {}): Promise<void> {
    return connectNetwork(this.docker, network, container, opts);
  }

  disconnectNetwork(network: string, container: string, opts: { force?: boolean } = {}): Promise<void> {
    return disconnectNetwork(this.docker, network, container, opts);
  }

  ensureVolume(name: string, labels: Record<string, string> = {}): Promise<{ created: boolean }> {
    return ensureVolume(this.docker, name, labels);
  }

  removeVolume(name: string): Promise<void> {
    return removeVolume(this.docker, name);
  }

  async inspectVolume(name: string): Promise<{ name: string; labels: Record<string, string> } | undefined> {
    try {
      const v = (await this.docker.getVolume(apiSegment(name, 'volume')).inspect()) as { Name: string; Labels?: Record<string, string> | null };
      return { name: v.Name, labels: v.Labels ?? {} };
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw engineError(e, `inspect volume ${name}`);
    }
  }

  async *events(req: EventsRequest): AsyncIterable<EngineEvent> {
    const filters: Record<string, string[]> = {};
    if (req.types?.length) filters.type = req.types;
    const labels = labelFilters(req.labels);
    if (labels.length) filters.label = labels;
    let stream: Readable;
    try {
      stream = (await this.docker.getEvents({
        filters,
        ...(req.sinceNano !== undefined ? { since: nanoToApiTime(req.sinceNano) } : {}),
        abortSignal: req.signal,
      } as Docker.GetEventsOptions)) as unknown as Readable;
    } catch (e) {
      throw engineError(e, 'subscribe to events');
    }
    yield* readEventStream(stream, req.signal);
  }
}

/** Docker's `since` takes "seconds.nanoseconds". Resuming one nanosecond after the last event seen. */
export function nanoToApiTime(nano: bigint): string {
  const next = nano + 1n;
  const sec = next / 1_000_000_000n;
  const frac = (next % 1_000_000_000n).toString().padStart(9, '0');
  return `${sec}.${frac}`;
}

