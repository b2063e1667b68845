/** ImagesApi of the fake: local images, a registry to pull from, and builds that read the Dockerfile. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BosunError } from '../../domain/errors.js';
import type { BuildRequest, BuildResult, CallOptions, ImageDetails, PullRequest } from '../../domain/engine/index.js';
import type { ImagesApi } from '../../ports/engine.js';
import { interpret } from './behaviour.js';
import { bounded } from './call.js';
import { type FakeState, filesIn, newId, normalizeRef } from './state.js';

/** An image the fake has (or its registry has): a reference, optionally labels. */
export type FakeImageSeed = string | { ref: string; labels?: Record<string, string> };

export function seedImage(s: FakeState, seed: FakeImageSeed): ImageDetails {
  const { ref, labels } = typeof seed === 'string' ? { ref: seed, labels: {} } : { ref: seed.ref, labels: seed.labels ?? {} };
  return { id: `sha256:${newId()}`, tags: [normalizeRef(ref)], labels: { ...labels }, created: s.iso() };
}

export class FakeImages implements ImagesApi {
  constructor(private readonly s: FakeState) {}

  inspect(ref: string, o?: CallOptions): Promise<ImageDetails | undefined> {
    return bounded(o, `inspect image ${ref}`, async () => {
      const img = this.s.image(ref);
      if (!img) return undefined;
      // Docker lists the tags as given (without an implied :latest for references that had none).
      const given = ref.includes(':') ? [] : img.tags.filter((t) => t === `${ref}:latest`).map(() => ref);
      return structuredClone({ ...img, tags: [...new Set([...img.tags, ...given])] });
    });
  }

  pull(req: PullRequest): Promise<ImageDetails> {
    return bounded(req, `pull ${req.ref}`, async () => {
      const remote = this.s.registry.get(normalizeRef(req.ref));
      if (!remote) throw new BosunError('pull_failed', `pull access denied for ${req.ref}: not in the fake registry`, { retryable: false });
      this.s.addImage(structuredClone(remote));
      this.s.emit('image', 'other', remote.id, { engineAction: 'pull' }, { name: normalizeRef(req.ref) });
      return structuredClone(remote);
    });
  }

  build(req: BuildRequest): Promise<BuildResult> {
    return bounded(req, `build ${req.tag}`, async () => {
      const file = join(req.contextDir, req.dockerfile ?? 'Dockerfile');
      const text = await readFile(file, 'utf8').catch((e: unknown) => {
        throw new BosunError('build_failed', `cannot read ${file}`, { cause: e, retryable: false });
      });
      const log: string[] = [];
      let labels: Record<string, string> = {};
      let files = new Map<string, string>();
      let step = 0;
      for (const raw of text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))) {
        const [instr = '', ...rest] = raw.split(/\s+/);
        const arg = rest.join(' ');
        log.push(`Step ${++step} : ${raw}`);
        const op = instr.toUpperCase();
        if (op === 'FROM') {
          const base = this.s.image(rest[0] ?? '') ?? this.s.registry.get(normalizeRef(rest[0] ?? ''));
          if (!base) throw buildFailed(`base image ${rest[0]} not found`, log);
          labels = { ...base.labels };
          files = new Map(this.s.imageFiles.get(base.id) ?? []);
        } else if (op === 'LABEL') {
          for (const m of arg.matchAll(/([^\s=]+)=("([^"]*)"|\S*)/g)) labels[m[1]!] = m[3] ?? m[2]!;
        } else if (op === 'RUN') {
          const r = interpret(['sh', '-c', arg], filesIn((path) => [files, path]), '');
          if (r.stdout) log.push(r.stdout.trimEnd());
          if (r.stderr) log.push(r.stderr.trimEnd());
          if (r.exitCode !== undefined && r.exitCode !== 0) throw buildFailed(`RUN ${arg} returned a non-zero code: ${r.exitCode}`, log);
        }
      }
      if (step === 0) throw buildFailed('the Dockerfile is empty', log);
      const img: ImageDetails = { id: `sha256:${newId()}`, tags: [normalizeRef(req.tag)], labels: { ...labels, ...(req.labels ?? {}) }, created: this.s.iso() };
      this.s.addImage(img);
      this.s.imageFiles.set(img.id, files);
      this.s.emit('image', 'other', img.id, { engineAction: 'tag' }, { name: normalizeRef(req.tag) });
      log.push(`Successfully built ${img.id.slice(7, 19)}`, `Successfully tagged ${req.tag}`);
      return { imageId: img.id, log: `${log.join('\n')}\n` };
    });
  }

  remove(ref: string, o?: { force?: boolean } & CallOptions): Promise<void> {
    return bounded(o, `remove image ${ref}`, async () => {
      const img = this.s.image(ref);
      if (!img) return;
      const users = [...this.s.containers.values()].filter((c) => c.imageId === img.id);
      if (users.length && !o?.force) throw new BosunError('conflict', `image ${ref} is in use by container ${users[0]!.id.slice(0, 12)}`, { retryable: false });
      const tag = normalizeRef(ref);
      const drop = img.tags.includes(tag) && img.tags.length > 1 ? [tag] : [...img.tags];
      for (const t of drop) this.s.images.delete(t);
      img.tags = img.tags.filter((t) => !drop.includes(t));
      this.s.emit('image', img.tags.length ? 'other' : 'destroyed', img.id, img.tags.length ? { engineAction: 'untag' } : {}, { name: tag });
    });
  }
}

function buildFailed(msg: string, log: string[]): BosunError {
  return new BosunError('build_failed', msg, { details: { log: `${log.join('\n')}\n` }, retryable: false });
}
