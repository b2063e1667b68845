/**
 * The warm branch of an attached run: decides whether a run may use a pool, takes a member,
 * runs the command in it and shapes the same outcome a cold run gives, plus `warm: true`.
 */
import { isBosunError } from '../domain/errors.js';
import { LABEL } from '../domain/labels.js';
import type { ContainerSpec, OnOutput } from '../domain/engine/index.js';
import type { RunEnd } from '../actions/run-output.js';
import type { RunInput } from '../actions/schemas/run.js';
import type { ActionContext, ActionOutcome } from '../actions/types.js';
import { claimName, execArgv, poolKey, warmEligibility, type ColdReason } from './plan.js';
import type { Claimed } from './pools.js';
import { execWarm } from './warm-run.js';

export type WarmTry = { kind: 'warm'; claimed: Claimed; end: RunEnd } | { kind: 'cold'; reason: ColdReason | 'none'; notice?: string } | { kind: 'taken'; name: string };

interface WarmOpts {
  remove: boolean;
  timeoutMs: number;
  outputLimit: number;
  replyLimit: number;
  onOutput?: OnOutput | undefined;
  stdin?: string | undefined;
}

/** A repeat of a request that claimed a warm container (an earlier delivery, a duplicate): its name, if so. */
export async function priorWarmClaim(ctx: ActionContext): Promise<string | undefined> {
  if (!ctx.pools || (!ctx.redelivered && !ctx.requestIdGiven)) return undefined;
  const name = claimName(ctx.requestId, ctx.publisher);
  const c = await ctx.engine.containers.inspect(name);
  return c && c.labels[LABEL.pool] !== undefined ? name : undefined;
}

export async function tryWarm(ctx: ActionContext, input: RunInput & { warm?: boolean | undefined }, spec: ContainerSpec, o: WarmOpts): Promise<WarmTry> {
  const pools = ctx.pools;
  const notice = (why: string) => (input.warm === true ? { notice: `warm: true was asked, but the run went cold: ${why}` } : {});
  if (!pools) return { kind: 'cold', reason: 'no_pool', ...notice('this agent has no warm pools') };
  const ineligible = warmEligibility({ warm: input.warm, name: input.name, build: input.build, pull: input.pull, remove: o.remove, restartPolicy: spec.restartPolicy });
  if (ineligible) return cold(ctx, ineligible, notice(`the run is not one a pool can serve (${ineligible})`));
  const key = poolKey(spec);
  const pool = pools.find(key);
  if (!pool) return cold(ctx, 'no_pool', notice('no pool has these create-time settings (image, volumes, network, user, limits, labels)'));
  const claimed = await pools.claim(key, ctx.requestId, ctx.publisher, { mayRepeat: ctx.redelivered || ctx.requestIdGiven });
  if (claimed === 'taken') return { kind: 'taken', name: claimName(ctx.requestId, ctx.publisher) };
  if (!claimed) return cold(ctx, 'empty', notice(`pool "${pool}" has no idle container`));
  const argv = execArgv(spec, claimed.image);
  if (argv.length === 0) {
    void pools.release(claimed.id).catch(() => undefined);
    return cold(ctx, 'no_command', notice('the run has no command and the image none known'));
  }
  ctx.log.debug({ pool, container: claimed.name }, 'warm run');
  try {
    const end = await execWarm(claimed, argv, spec, { engine: ctx.engine, signal: ctx.signal, ...o });
    await claimed.renamed.catch((e: unknown) => ctx.log.warn({ pool, err: (e as Error).message }, 'warm container could not be renamed for its request'));
    pools.metrics?.hit(pool);
    // Removed after the reply (release); should the reply never settle (parked, retried), the sweep removes it.
    pools.expireLater(claimed.id);
    return { kind: 'warm', claimed, end };
  } catch (e) {
    void pools.release(claimed.id).catch(() => undefined);
    // The member had died (exec refused: not running): the command never ran, so it runs cold.
    if (isBosunError(e) && (e.code === 'conflict' || e.code === 'not_found')) {
      ctx.log.warn({ pool, container: claimed.name, err: e.message }, 'pool container was not running; the run goes cold');
      return cold(ctx, 'empty', notice(`pool "${pool}" had no live container`));
    }
    throw e;
  }
}

function cold(ctx: ActionContext, reason: ColdReason, n: { notice?: string }): WarmTry {
  ctx.pools?.metrics?.miss(reason);
  return { kind: 'cold', reason, ...n };
}

/** Another delivery holds this request's warm container: its output is not recoverable, and the run is not made twice. */
export function takenOutcome(ctx: ActionContext, name: string): ActionOutcome {
  return {
    ok: false,
    reply: { container: { name }, warm: true },
    error: { code: 'conflict', message: `request ${ctx.requestId} already ran (or runs) in warm container ${name}; a warm run's output is not kept, and it is not run twice` },
    afterSettle: async () => {
      if (ctx.redelivered) await ctx.pools?.release(name);
    },
  };
}
