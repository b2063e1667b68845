/**
 * Gets the image a run needs: build it (build: true), or apply the pull policy.
 * A missing image is a clear error, never a silent no-op (seed 000's weakness).
 */
import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BosunError } from '../domain/errors.js';
import { LABEL } from '../domain/labels.js';
import { enforceReadPath, isWithin } from '../domain/policy.js';
import { ensureMayActOn } from '../domain/policy/ownership.js';
import type { ContainerEngine } from '../ports/engine.js';
import type { ActionContext } from './types.js';
import type { RunInput } from './schemas/run.js';

export interface PreparedImage {
  image: string;
  imageId: string;
  buildLog?: string;
  pulled?: boolean;
}

export async function resolveHostPath(p: string): Promise<string> {
  const abs = resolve(p);
  try {
    return await realpath(abs);
  } catch {
    return abs;
  }
}

/**
 * The engine tars the build context after this check: a container with a writable bind of the
 * context (or of a directory around it) could swap parts of it for symlinks to host files in
 * between. Such a context is refused; the containers are looked up on the engine, not in memory.
 */
export async function enforceContextNotWritable(engine: ContainerEngine, contextDir: string, field = 'context'): Promise<void> {
  for (const c of await engine.containers.list({ all: true })) {
    const d = await engine.containers.inspect(c.id);
    const m = d?.mounts.find((x) => x.type === 'bind' && !x.readOnly && x.source !== undefined && (isWithin(contextDir, x.source) || isWithin(x.source, contextDir)));
    if (m) {
      throw new BosunError('policy_denied', `${field}: ${contextDir} is writable by container ${d!.name} (bind ${m.source}); build from a directory no container can write`, { field, retryable: false });
    }
  }
}

export async function prepareImage(ctx: ActionContext, input: RunInput): Promise<PreparedImage> {
  if (input.build) {
    const contextDir = enforceReadPath(ctx.policy, resolve(input.context), 'context');
    await enforceContextNotWritable(ctx.engine, contextDir);
    // A build takes the tag from whatever image holds it: only an image bosun built may lose it.
    const current = await ctx.engine.images.inspect(input.image);
    if (current) ensureMayActOn(ctx.policy, 'image', input.image, current.labels, 'image');
    const built = await ctx.engine.images.build({
      contextDir,
      tag: input.image,
      ...(input.dockerfile ? { dockerfile: input.dockerfile } : {}),
      ...(input.build_args ? { buildArgs: input.build_args } : {}),
      labels: { [LABEL.managed]: 'true', [LABEL.request]: ctx.requestId },
      signal: ctx.signal,
    });
    return { image: input.image, imageId: built.imageId, buildLog: built.log };
  }
  const policy = input.pull === true ? 'always' : input.pull === false ? 'missing' : input.pull;
  if (policy !== 'always') {
    const local = await ctx.engine.images.inspect(input.image);
    if (local) return { image: input.image, imageId: local.id };
    if (policy === 'never') {
      throw new BosunError('image_not_found', `image ${input.image} is not on this host and pull is "never"`, { field: 'image', retryable: false });
    }
  }
  try {
    const pulled = await ctx.engine.images.pull({ ref: input.image, signal: ctx.signal });
    return { image: input.image, imageId: pulled.id, pulled: true };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new BosunError('image_not_found', `image ${input.image} is not on this host and could not be pulled (${why})`, {
      field: 'image',
      cause: e,
      retryable: false,
    });
  }
}
