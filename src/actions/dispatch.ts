/**
 * Seed 003 (docker-dispatch): {Dockercmd: run|stop|remove, Image, Container, Cmd, Options{…}}.
 * Keys are case-insensitive, as the original's JSON decoding made them. Every message is
 * decoded afresh (the original reused one struct, leaking fields between messages).
 */
import { z } from 'zod';
import { BosunError } from '../domain/errors.js';
import { mustInspectOwned } from './container-lifecycle.js';
import { runAttached, runDetached } from './run-container.js';
import { containerRef, imageRef, newContainerName, requestIdField, responseChannelField, stdinField, type RunInput } from './schemas/run.js';
import type { ActionDefinition } from './types.js';

/** Lower-cases object keys (recursively), so `Dockercmd`, `dockerCmd` and `dockercmd` are one field. */
export function lowerKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(lowerKeys);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) {
    const key = k.toLowerCase();
    if (key in out) throw new BosunError('invalid_message', `field "${k}" is given twice (keys are case-insensitive)`, { field: key, retryable: false });
    out[key] = key === 'environment' || key === 'labels' ? val : lowerKeys(val);
  }
  return out;
}

const optionsSchema = z.strictObject({
  name: newContainerName.optional(),
  entrypoint: z.union([z.string(), z.array(z.string())]).optional(),
  attach: z.array(z.string().transform((s) => s.toUpperCase()).pipe(z.enum(['STDIN', 'STDOUT', 'STDERR']))).optional(),
  remove: z.boolean().optional(),
  time: z.number().int().min(0).optional(),
  volumes: z.boolean().optional(),
  force: z.boolean().optional(),
});

const dispatchSchema = z.preprocess(
  lowerKeys,
  z.strictObject({
    request_id: requestIdField.optional(),
    dockercmd: z.string().transform((s) => s.toLowerCase()).pipe(z.enum(['run', 'stop', 'remove'])),
    image: imageRef.optional(),
    container: containerRef.optional(),
    cmd: z.array(z.string()).optional(),
    options: optionsSchema.default({}),
    response_channel: responseChannelField.optional(),
    environment: z.array(z.string()).optional(),
    timeout: z.number().positive().optional(),
    /** Attached runs: live output chunks before the final envelope, as start_container.response_channel. */
    stream: z.boolean().optional(),
    /** Attached runs: written to the container's stdin, then closed. */
    stdin: stdinField.optional(),
  }),
);

export const dispatch: ActionDefinition<typeof dispatchSchema> = {
  channel: 'dispatch',
  description: "Seed 003's Dockercmd messages: run (Attach → output replied, Remove → deleted after exit), stop (Time), remove (Volumes, Force).",
  schema: dispatchSchema,
  replyChannelOf: (i) => i.response_channel,
  runKindOf: (i) => (i.dockercmd !== 'run' ? undefined : (i.options.attach ?? []).some((a) => a === 'STDOUT' || a === 'STDERR') || i.options.remove === true ? 'attached' : 'detached'),
  async handle(input, ctx) {
    const o = input.options;
    if (input.dockercmd === 'run') {
      if (!input.image) throw new BosunError('invalid_message', 'Image is required for run', { field: 'image', retryable: false });
      const run: RunInput = {
        image: input.image,
        build: false,
        context: './',
        pull: 'missing',
        ...(o.name ? { name: o.name } : {}),
        ...(input.cmd ? { command: input.cmd } : {}),
        ...(o.entrypoint !== undefined ? { entrypoint: o.entrypoint } : {}),
        ...(input.environment ? { environment: input.environment } : {}),
        ...(input.timeout ? { timeout: input.timeout } : {}),
        restart_policy: 'no',
      };
      const attached = (o.attach ?? []).some((a) => a === 'STDOUT' || a === 'STDERR');
      if (input.stream && !attached) throw new BosunError('invalid_message', 'stream needs Options.Attach with STDOUT or STDERR', { field: 'stream', retryable: false });
      if (input.stdin !== undefined && !attached && !o.remove) throw new BosunError('invalid_message', 'stdin needs an attached run (Options.Attach or Remove)', { field: 'stdin', retryable: false });
      if (attached || o.remove) {
        const outcome = await runAttached(ctx, run, { remove: o.remove ?? false, stream: input.stream, stdin: input.stdin });
        const tag = outcome.reply.container?.name ?? '';
        for (const line of (outcome.reply.stdout ?? '').split('\n').filter(Boolean)) ctx.log.info({ container: tag }, `${tag} | ${line}`);
        if (!attached) {
          delete outcome.reply.stdout;
          delete outcome.reply.stderr;
        } else if (!(o.attach ?? []).includes('STDERR')) delete outcome.reply.stderr;
        else if (!(o.attach ?? []).includes('STDOUT')) delete outcome.reply.stdout;
        return outcome;
      }
      return runDetached(ctx, run);
    }
    const target = input.container ?? o.name;
    if (!target) throw new BosunError('invalid_message', `Container is required for ${input.dockercmd}`, { field: 'container', retryable: false });
    const d = await mustInspectOwned(ctx, target, 'container');
    if (input.dockercmd === 'stop') {
      await ctx.engine.containers.stop(d.id, { timeoutSec: o.time ?? 10 });
      return { reply: { container: { id: d.id, name: d.name }, result: { stopped: true } } };
    }
    await ctx.engine.containers.remove(d.id, { force: o.force ?? false, volumes: o.volumes ?? false });
    return { reply: { container: { id: d.id, name: d.name }, result: { removed: true } } };
  },
};
