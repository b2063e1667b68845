/** Container operations of the Docker engine adapter. */
import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import { BosunError } from '../../domain/errors.js';
import type {
  AttachRequest, CallOptions, CapturedOutput, ContainerDetails, ContainerSpec, ContainerSummary, ListFilter, LogsRequest, ProcessEntry,
  ResourceLimits, RestartPolicy,
} from '../../domain/engine/index.js';
import type { ContainersApi, NetworksApi } from '../../ports/engine.js';
import { CALL_TIMEOUT, abortable, bounded, linkSignal, timeoutError } from './call.js';
import { engineError, messageOf, statusOf } from './errors.js';
import { inspectToDetails, labelFilters, resourcesToHostConfig, restartPolicyToApi, specToCreateOptions, summaryFromApi } from './mapping.js';
import { OutputCapture } from './output.js';
import { drainStream } from './streams.js';
import { attachWithStdin } from './attach-stdin.js';
import { apiSegment } from './paths.js';
import { DOCKER_RULES } from './flavour.js';
import { flavouredDetails, flavouredSummary, untilSettled, type RulesSource } from './flavoured.js';
import { isNameInUse, isNotRunning } from './compat-errors.js';

const DEFAULT_LOG_LIMIT = 1024 * 1024;

export class DockerContainers implements ContainersApi {
  constructor(private readonly docker: Docker, private readonly networks: NetworksApi, private readonly rules: RulesSource = async () => DOCKER_RULES) {}

  /** A dockerode container whose id is safe to paste into an API path (see paths.ts). */
  private container(idOrName: string): Docker.Container {
    return this.docker.getContainer(apiSegment(idOrName, 'container'));
  }

  async create(spec: ContainerSpec, o?: CallOptions): Promise<{ id: string }> {
    const what = `create container ${spec.name ?? spec.image}`;
    const id = await bounded(o, CALL_TIMEOUT.create, what, async (signal) => {
      try {
        return (await this.docker.createContainer(abortable(specToCreateOptions(spec), signal))).id;
      } catch (e) {
        if (signal?.aborted) throw e;
        const msg = messageOf(e);
        if (statusOf(e) === 404 && /image/i.test(msg)) throw new BosunError('image_not_found', `image ${spec.image} not found locally`, { field: 'image', cause: e });
        if (isNameInUse(e)) throw new BosunError('conflict', `${what}: ${msg}`, { cause: e });
        throw engineError(e, what);
      }
    });
    if (!spec.networkMode) {
      for (const net of (spec.networks ?? []).slice(1)) await this.networks.connect(net.name, id, { ...o, ...(net.aliases ? { aliases: net.aliases } : {}) });
    }
    return { id };
  }

  start(idOrName: string, o?: CallOptions): Promise<void> {
    return bounded(o, CALL_TIMEOUT.create, `start ${idOrName}`, async (signal) => {
      try {
        await this.container(idOrName).start(abortable({}, signal));
      } catch (e) {
        if (statusOf(e) === 304) return;
        throw engineError(e, `start ${idOrName}`);
      }
    });
  }

  stop(idOrName: string, o: { timeoutSec?: number } & CallOptions = {}): Promise<void> {
    // Without timeoutSec Docker uses the container's own StopTimeout, which may be long.
    const grace = o.timeoutSec !== undefined ? o.timeoutSec * 1000 + CALL_TIMEOUT.stopGraceExtra : CALL_TIMEOUT.stopUnknownGrace;
    return bounded(o, grace, `stop ${idOrName}`, async (signal) => {
      try {
        await this.container(idOrName).stop(abortable(o.timeoutSec !== undefined ? { t: o.timeoutSec } : {}, signal));
      } catch (e) {
        if (statusOf(e) === 304) return;
        throw engineError(e, `stop ${idOrName}`);
      }
    });
  }

  kill(idOrName: string, signalName = 'SIGKILL', o?: CallOptions): Promise<void> {
    return bounded(o, CALL_TIMEOUT.quick, `kill ${idOrName}`, async (signal) => {
      try {
        await this.container(idOrName).kill(abortable({ signal: signalName }, signal));
      } catch (e) {
        if (isNotRunning(e)) return;
        throw engineError(e, `kill ${idOrName}`);
      }
    });
  }

  restart(idOrName: string, o: { timeoutSec?: number } & CallOptions = {}): Promise<void> {
    const grace = (o.timeoutSec !== undefined ? o.timeoutSec * 1000 : CALL_TIMEOUT.stopUnknownGrace) + CALL_TIMEOUT.create;
    return bounded(o, grace, `restart ${idOrName}`, async (signal) => {
      try {
        await this.container(idOrName).restart(abortable(o.timeoutSec !== undefined ? { t: o.timeoutSec } : {}, signal));
      } catch (e) {
        throw engineError(e, `restart ${idOrName}`);
      }
    });
  }

  remove(idOrName: string, o: { force?: boolean; volumes?: boolean } & CallOptions = {}): Promise<void> {
    return bounded(o, CALL_TIMEOUT.create, `remove ${idOrName}`, async (signal) => {
      try {
        await this.container(idOrName).remove(abortable({ force: o.force ?? false, v: o.volumes ?? false }, signal));
      } catch (e) {
        if (statusOf(e) === 404) return;
        if (statusOf(e) === 409 && /already in progress/i.test(messageOf(e))) return;
        throw engineError(e, `remove ${idOrName}`);
      }
    });
  }

  wait(idOrName: string, o?: CallOptions): Promise<{ exitCode: number }> {
    return bounded(o, undefined, `wait for ${idOrName}`, async (signal) => {
      try {
        const r = (await this.container(idOrName).wait(abortable({}, signal))) as { StatusCode: number };
        await untilSettled(await this.rules(), async () => (await this.container(idOrName).inspect(abortable({}, signal))).State.Status, signal);
        return { exitCode: r.StatusCode };
      } catch (e) {
        throw signal?.aborted ? e : engineError(e, `wait ${idOrName}`);
      }
    });
  }

  inspect(idOrName: string, o?: CallOptions): Promise<ContainerDetails | undefined> {
    return bounded(o, CALL_TIMEOUT.quick, `inspect ${idOrName}`, async (signal) => {
      try {
        const raw = await this.container(idOrName).inspect(abortable({}, signal));
        return flavouredDetails(await this.rules(), inspectToDetails(raw), raw.State.Status);
      } catch (e) {
        if (statusOf(e) === 404) return undefined;
        throw engineError(e, `inspect ${idOrName}`);
      }
    });
  }

  list(filter: ListFilter = {}, o?: CallOptions): Promise<ContainerSummary[]> {
    const filters: Record<string, string[]> = {};
    const labels = labelFilters(filter.labels);
    if (labels.length) filters.label = labels;
    if (filter.name) filters.name = [filter.name];
    if (filter.status?.length) filters.status = filter.status;
    return bounded(o, CALL_TIMEOUT.quick, 'list containers', async (signal) => {
      try {
        const list = await this.docker.listContainers(abortable({ all: filter.all ?? true, filters: JSON.stringify(filters) }, signal));
        const rules = await this.rules();
        return list.map((c) => flavouredSummary(rules, summaryFromApi(c), c.State));
      } catch (e) {
        throw engineError(e, 'list containers');
      }
    });
  }

  update(idOrName: string, update: { resources?: ResourceLimits; restartPolicy?: RestartPolicy }, o?: CallOptions): Promise<void> {
    const body: Record<string, unknown> = { ...resourcesToHostConfig(update.resources) };
    const rp = restartPolicyToApi(update.restartPolicy);
    if (rp) body.RestartPolicy = rp;
    return bounded(o, CALL_TIMEOUT.quick, `update ${idOrName}`, async (signal) => {
      const refused = (await this.rules()).inPlaceUpdateUnsupported;
      if (refused) throw new BosunError('engine_error', `update ${idOrName}: ${refused}`, { details: { unsupported: 'update' } });
      try {
        await this.container(idOrName).update(abortable(body, signal));
      } catch (e) {
        throw engineError(e, `update ${idOrName}`);
      }
    });
  }

  rename(idOrName: string, newName: string, o?: CallOptions): Promise<void> {
    return bounded(o, CALL_TIMEOUT.quick, `rename ${idOrName}`, async (signal) => {
      try {
        await this.container(idOrName).rename(abortable({ name: newName }, signal));
      } catch (e) {
        throw engineError(e, `rename ${idOrName}`);
      }
    });
  }

  async logs(idOrName: string, req: LogsRequest = {}): Promise<CapturedOutput> {
    const link = linkSignal(req, req.follow ? undefined : CALL_TIMEOUT.quick);
    const container = this.container(idOrName);
    const cap = new OutputCapture(req.limitBytes ?? DEFAULT_LOG_LIMIT, req.stopAfterBytes, link.signal, req.onOutput);
    try {
      const tty = req.tty ?? (await container.inspect(abortable({}, link.signal))).Config.Tty;
      const stream = (await container.logs({
        stdout: req.stdout ?? true,
        stderr: req.stderr ?? true,
        follow: true,
        ...(req.follow ? {} : { until: Math.floor(Date.now() / 1000) + 1 }),
        ...(req.timestamps ? { timestamps: true } : {}),
        ...(req.tail !== undefined ? { tail: req.tail } : {}),
        abortSignal: cap.signal,
      })) as unknown as Readable;
      await drainStream(this.docker, stream, tty, cap.out, cap.err, cap.signal);
    } catch (e) {
      if (link.signal?.aborted) throw timeoutError(`logs of ${idOrName}`, link, e);
      if (!cap.overLimit) throw engineError(e, `logs ${idOrName}`);
    } finally {
      link.dispose();
    }
    return cap.result();
  }

  async attach(idOrName: string, req: AttachRequest = {}): Promise<{ output: Promise<CapturedOutput> }> {
    const link = linkSignal(req, undefined);
    const container = this.container(idOrName);
    const cap = new OutputCapture(req.limitBytes ?? DEFAULT_LOG_LIMIT, req.stopAfterBytes, link.signal, req.onOutput);
    let stream: Readable;
    let tty: boolean;
    try {
      tty = req.tty ?? (await container.inspect()).Config.Tty;
      stream = req.stdin !== undefined
        ? await attachWithStdin(this.docker, apiSegment(idOrName, 'container'), req.stdin, cap.signal)
        : ((await container.attach({ stream: true, stdout: true, stderr: true, abortSignal: cap.signal } as Docker.ContainerAttachOptions)) as unknown as Readable);
    } catch (e) {
      link.dispose();
      throw link.signal?.aborted ? timeoutError(`attach to ${idOrName}`, link, e) : engineError(e, `attach to ${idOrName}`);
    }
    const output = drainStream(this.docker, stream, tty, cap.out, cap.err, cap.signal)
      .then(
        () => cap.result(),
        (e: unknown) => {
          if (cap.overLimit) return cap.result();
          throw engineError(e, `attach to ${idOrName}`);
        },
      )
      .finally(() => link.dispose());
    return { output };
  }

  top(idOrName: string, o?: CallOptions): Promise<ProcessEntry[]> {
    return bounded(o, CALL_TIMEOUT.quick, `top ${idOrName}`, async (signal) => {
      try {
        const r = (await this.container(idOrName).top(abortable({ ps_args: '-o pid,user,args' }, signal))) as { Titles: string[]; Processes: string[][] };
        const col = (name: string, fallback: number) => {
          const i = r.Titles.findIndex((t) => t.toUpperCase() === name);
          return i >= 0 ? i : fallback;
        };
        const [pid, user, cmd] = [col('PID', 0), col('USER', 1), r.Titles.length - 1];
        return (r.Processes ?? []).map((p) => ({ pid: p[pid] ?? '', user: p[user] ?? '', command: p[cmd] ?? '' }));
      } catch (e) {
        throw engineError(e, `top ${idOrName}`);
      }
    });
  }
}
