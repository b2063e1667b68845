/** Image operations of the Docker engine adapter: inspect, pull, build, remove. */
import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import { BosunError } from '../../domain/errors.js';
import type { BuildRequest, BuildResult, CallOptions, ImageDetails, PullRequest } from '../../domain/engine/index.js';
import type { ImagesApi } from '../../ports/engine.js';
import { CALL_TIMEOUT, abortable, bounded } from './call.js';
import { buildContextTar } from './build-context.js';
import { engineError, messageOf, statusOf } from './errors.js';
import { apiSegment } from './paths.js';
import { DOCKER_RULES } from './flavour.js';
import { flavouredImage, type RulesSource } from './flavoured.js';

async function inspectImage(docker: Docker, ref: string, signal?: AbortSignal): Promise<ImageDetails | undefined> {
  try {
    const i = await docker.getImage(apiSegment(ref, 'image')).inspect(abortable({}, signal) as Docker.ImageInspectOptions);
    const ep = i.Config?.Entrypoint;
    const cmd = i.Config?.Cmd;
    return {
      id: i.Id, tags: i.RepoTags ?? [], labels: i.Config?.Labels ?? {}, created: i.Created,
      ...(ep ? { entrypoint: typeof ep === 'string' ? [ep] : ep } : {}), ...(cmd ? { cmd } : {}),
    };
  } catch (e) {
    if (statusOf(e) === 404) return undefined;
    throw engineError(e, `inspect image ${ref}`);
  }
}

async function pullImage(docker: Docker, req: PullRequest, signal: AbortSignal | undefined): Promise<ImageDetails> {
  try {
    const stream = (await docker.pull(req.ref, abortable({}, signal))) as Readable;
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(stream, (err: Error | null, events: { error?: string }[]) => {
        const failed = events?.find((ev) => ev.error);
        if (err) reject(err);
        else if (failed) reject(new Error(failed.error));
        else resolve();
      });
    });
  } catch (e) {
    throw new BosunError('pull_failed', `pull ${req.ref}: ${messageOf(e)}`, { field: 'image', cause: e, retryable: true });
  }
  const img = await inspectImage(docker, req.ref);
  if (!img) throw new BosunError('pull_failed', `pull ${req.ref} finished but the image is not there`, { field: 'image' });
  return img;
}

async function buildImage(docker: Docker, req: BuildRequest, signal: AbortSignal | undefined): Promise<BuildResult> {
  let log = '';
  try {
    const tar = await buildContextTar(req.contextDir);
    const stream = (await docker.buildImage(tar, {
      t: req.tag,
      dockerfile: req.dockerfile ?? 'Dockerfile',
      buildargs: req.buildArgs ?? {},
      labels: req.labels ?? {},
      rm: true,
      forcerm: true,
      ...(signal ? { abortSignal: signal } : {}),
    })) as Readable;
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (err: Error | null) => (err ? reject(err) : resolve()),
        (ev: { stream?: string; error?: string; errorDetail?: { message?: string } }) => {
          if (ev.stream) log += ev.stream;
          if (ev.error) reject(new Error(ev.error));
        },
      );
    });
  } catch (e) {
    throw new BosunError('build_failed', `build of ${req.tag} from ${req.contextDir} failed: ${messageOf(e)}`, {
      field: 'context',
      details: { log },
      cause: e,
    });
  }
  const img = await inspectImage(docker, req.tag);
  if (!img) throw new BosunError('build_failed', `build of ${req.tag} produced no image`, { field: 'context', details: { log } });
  return { imageId: img.id, log };
}

async function removeImage(docker: Docker, ref: string, opts: { force?: boolean }, signal: AbortSignal | undefined): Promise<void> {
  try {
    await docker.getImage(apiSegment(ref, 'image')).remove(abortable({ force: opts.force ?? false }, signal));
  } catch (e) {
    if (statusOf(e) === 404) return;
    throw engineError(e, `remove image ${ref}`);
  }
}

export class DockerImages implements ImagesApi {
  constructor(private readonly docker: Docker, private readonly rules: RulesSource = async () => DOCKER_RULES) {}

  inspect(ref: string, o?: CallOptions): Promise<ImageDetails | undefined> {
    return bounded(o, CALL_TIMEOUT.quick, `inspect image ${ref}`, async (signal) => {
      const i = await inspectImage(this.docker, ref, signal);
      return i && flavouredImage(await this.rules(), i);
    });
  }

  pull(req: PullRequest): Promise<ImageDetails> {
    return bounded(req, CALL_TIMEOUT.transfer, `pull ${req.ref}`, async (signal) => flavouredImage(await this.rules(), await pullImage(this.docker, req, signal)));
  }

  build(req: BuildRequest): Promise<BuildResult> {
    return bounded(req, CALL_TIMEOUT.transfer, `build ${req.tag}`, (signal) => buildImage(this.docker, req, signal));
  }

  remove(ref: string, o: { force?: boolean } & CallOptions = {}): Promise<void> {
    return bounded(o, CALL_TIMEOUT.create, `remove image ${ref}`, (signal) => removeImage(this.docker, ref, o, signal));
  }
}
