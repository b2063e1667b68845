/**
 * Single-container actions: start_containers_not_running (seed 000), close_container (seed 000's
 * intent: stop + remove), stop_container, remove_container, restart_container, container_status.
 */
import { z } from 'zod';
import { BosunError } from '../domain/errors.js';
import { LABEL } from '../domain/labels.js';
import { ensureMayActOn } from '../domain/policy/ownership.js';
import type { ContainerDetails } from '../domain/engine/index.js';
import { containerName, containerRef, requestIdField, responseChannelField } from './schemas/run.js';
import type { ActionContext, ActionDefinition } from './types.js';

const target = {
  request_id: requestIdField.optional(),
  name: containerRef,
  response_channel: responseChannelField.optional(),
};

/** The container, or a not_found error naming the message field that named it. */
export async function mustInspect(ctx: ActionContext, name: string, field = 'name'): Promise<ContainerDetails> {
  const d = await ctx.engine.containers.inspect(name);
  if (!d) throw new BosunError('not_found', `no container named "${name}"`, { field, retryable: false });
  return d;
}

/** The named container, which a message may act on only when bosun made it (unless the policy's container_scope is "any"). */
export async function mustInspectOwned(ctx: ActionContext, name: string, field = 'name'): Promise<ContainerDetails> {
  const d = await mustInspect(ctx, name, field);
  ensureMayActOn(ctx.policy, 'container', name, d.labels, field, ctx.publisher);
  return d;
}

export function statusOf(d: ContainerDetails) {
  return {
    id: d.id,
    name: d.name,
    image: d.image,
    status: d.state.status,
    running: d.state.running,
    exit_code: d.state.exitCode,
    started_at: d.state.startedAt,
    finished_at: d.state.finishedAt,
    restart_count: d.state.restartCount,
    ...(d.state.health ? { health: d.state.health } : {}),
    ...(d.state.error ? { error: d.state.error } : {}),
  };
}

const notRunningSchema = z.strictObject({ ...target, name: containerRef, exact_value: z.boolean().default(true) });
export const startContainersNotRunning: ActionDefinition<typeof notRunningSchema> = {
  channel: 'start_containers_not_running',
  description: 'Start the named container if it is not running; exact_value: false starts every container whose name begins with name.',
  schema: notRunningSchema,
  replyChannelOf: (i) => i.response_channel,
  async handle(input, ctx) {
    // A prefix matches only containers the message may act on; an exact name that is not bosun's is refused below.
    const owned = ctx.policy.container_scope === 'any' ? {} : { labels: { [LABEL.managed]: 'true' as const } };
    const candidates = input.exact_value
      ? ((await ctx.engine.containers.inspect(input.name)) ? [input.name] : [])
      : (await ctx.engine.containers.list({ all: true, name: escapeRe(input.name), ...owned })).filter((c) => ctx.policy.container_scope === 'any' || c.labels[LABEL.pool] === undefined).map((c) => c.name).filter((n) => n.startsWith(input.name));
    if (candidates.length === 0) {
      const which = input.exact_value ? 'named' : `${ctx.policy.container_scope === 'any' ? '' : 'made by bosun '}whose name begins with`;
      throw new BosunError('not_found', `no container ${which} "${input.name}"`, { field: 'name', retryable: false });
    }
    const started: string[] = [];
    const already: string[] = [];
    for (const n of candidates) {
      const d = await mustInspectOwned(ctx, n);
      if (d.state.running) already.push(d.name);
      else {
        await ctx.engine.containers.start(d.id);
        started.push(d.name);
      }
    }
    return { reply: { result: { started, already_running: already } } };
  },
};

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const stopSchema = z.strictObject({ ...target, timeout: z.number().int().min(0).max(3600).default(10) });
const removeSchema = z.strictObject({ ...target, force: z.boolean().default(false), volumes: z.boolean().default(false) });
const plainSchema = z.strictObject(target);

export const closeContainer: ActionDefinition<typeof stopSchema> = {
  channel: 'close_container',
  description: 'Stop (after timeout seconds, then kill) and remove the named container.',
  schema: stopSchema,
  replyChannelOf: (i) => i.response_channel,
  async handle(input, ctx) {
    const d = await ctx.engine.containers.inspect(input.name);
    if (!d) return { reply: { result: { removed: false, already_gone: true } } };
    ensureMayActOn(ctx.policy, 'container', input.name, d.labels, 'name', ctx.publisher);
    await ctx.engine.containers.stop(d.id, { timeoutSec: input.timeout });
    await ctx.engine.containers.remove(d.id, { force: true });
    return { reply: { container: { id: d.id, name: d.name }, result: { removed: true } } };
  },
};

/** An action that changes the container's run state and replies with the state it ends in. */
function runStateAction(channel: string, description: string, change: (ctx: ActionContext, id: string, timeoutSec: number) => Promise<void>): ActionDefinition<typeof stopSchema> {
  return {
    channel,
    description,
    schema: stopSchema,
    replyChannelOf: (i) => i.response_channel,
    async handle(input, ctx) {
      const d = await mustInspectOwned(ctx, input.name);
      await change(ctx, d.id, input.timeout);
      return { reply: { container: { id: d.id, name: d.name }, result: statusOf(await mustInspect(ctx, d.id)) } };
    },
  };
}

export const stopContainer = runStateAction('stop_container', 'Stop the named container (timeout seconds before SIGKILL, default 10).', (ctx, id, t) =>
  ctx.engine.containers.stop(id, { timeoutSec: t }),
);

export const restartContainer = runStateAction('restart_container', 'Restart the named container.', (ctx, id, t) => ctx.engine.containers.restart(id, { timeoutSec: t }));

export const removeContainer: ActionDefinition<typeof removeSchema> = {
  channel: 'remove_container',
  description: 'Remove the named container (force kills a running one; volumes removes its anonymous volumes).',
  schema: removeSchema,
  replyChannelOf: (i) => i.response_channel,
  async handle(input, ctx) {
    const d = await mustInspectOwned(ctx, input.name);
    if (d.state.running && !input.force) {
      throw new BosunError('conflict', `container "${input.name}" is running; stop it first or set force: true`, { field: 'force', retryable: false });
    }
    await ctx.engine.containers.remove(d.id, { force: input.force, volumes: input.volumes });
    return { reply: { container: { id: d.id, name: d.name }, result: { removed: true } } };
  },
};

export const containerStatus: ActionDefinition<typeof plainSchema> = {
  channel: 'container_status',
  description: 'Reply with the named container\'s state.',
  schema: plainSchema,
  replyChannelOf: (i) => i.response_channel,
  async handle(input, ctx) {
    const d = await mustInspectOwned(ctx, input.name);
    return { reply: { container: { id: d.id, name: d.name }, result: statusOf(d) } };
  },
};

