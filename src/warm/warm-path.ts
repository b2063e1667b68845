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
import { bodyClaimPrefix, claimNameFor, execArgv, poolKey, warmEligibility, type ColdReason } from './plan.js';
import type { Claimed } from './pools.js';
import { execWarm, warmExecSetup } from './warm-run.js';

/** priorLooked: the look-up for an earlier delivery's warm container (priorWarmClaim) was done and found none. */
type ColdTry = { kind: 'cold'; reason: ColdReason | 'none'; notice?: string; priorLooked?: true };
export type WarmTry = { kind: 'warm'; claimed: Claimed; end: RunEnd } | ColdTry;

interface WarmOpts {
  /** The run said warm: true (a cold fallback then carries a notice). */
  askedWarm: boolean;
  timeoutMs: number;
  outputLimit: number;
  replyLimit: number;
  onOutput?: OnOutput | undefined;
  stdin?: string | undefined;
}

/**
 * A repeat of a request that claimed a warm container (an earlier delivery, a duplicate, the
 * agent's own copy): that container's name, if so. The broker's redelivery of an id-less message
 * got a fresh id, so it is matched by body, as a cold run's is (findPriorRun): the newest pool
 * container named after that body. Two equal id-less messages are then told apart no better than
 * a cold run tells them apart.
 */
export async function priorWarmClaim(ctx: ActionContext): Promise<string | undefined> {
  if (!ctx.pools || (!ctx.redelivered && !ctx.requestIdGiven)) return undefined;
  const name = claimNameFor(ctx);
  if (!ctx.idGenerated || !ctx.redelivered) {
    const c = await ctx.engine.containers.inspect(name);
    return c && c.labels[LABEL.pool] !== undefined ? name : undefined;
  }
  // By body: the exact name (the agent's own copy) starts with the prefix too, and is preferred.
  const prefix = bodyClaimPrefix(ctx.bodyHash, ctx.publisher);
  // Unanchored (engines differ on whether the name filter sees a leading "/"), so checked again here.
  const found = (await ctx.engine.containers.list({ all: true, labels: { [LABEL.pool]: true, [LABEL.managed]: 'true' }, name: prefix })).filter((x) => x.name.startsWith(prefix));
  return (found.find((x) => x.name === name) ?? found.sort((a, b) => b.created - a.created)[0])?.name;
}

/** A pool's container taken for this request, or why the run goes cold, or that an earlier delivery holds one. */
export type WarmClaim = { kind: 'claimed'; claimed: Claimed } | ColdTry | { kind: 'taken'; name: string };

/**
 * Takes a pool's container for the run, when one may serve it. For a request that may repeat the
 * claim is a rename to the request's name: it fails as `taken` when an earlier delivery holds one,
 * so it doubles as that look-up and can go beside the search for an earlier cold run.
 */
export async function claimWarm(ctx: ActionContext, input: RunInput & { warm?: boolean | undefined }, spec: ContainerSpec, remove: boolean, stdin: boolean): Promise<WarmClaim> {
  const pools = ctx.pools;
  const notice = (why: string) => (input.warm === true ? { notice: `warm: true was asked, but the run went cold: ${why}` } : {});
  if (!pools) return { kind: 'cold', reason: 'no_pool', ...notice('this agent has no warm pools') };
  const ineligible = warmEligibility({ warm: input.warm, name: input.name, build: input.build, pull: input.pull, remove, restartPolicy: spec.restartPolicy, ports: (spec.portBindings?.length ?? 0) > 0 });
  if (ineligible) return cold(ctx, ineligible, notice(`the run is not one a pool can serve (${ineligible})`));
  const key = poolKey(spec);
  const pool = pools.find(key);
  if (!pool) return cold(ctx, 'no_pool', notice('no pool has these create-time settings (image, volumes, network, user, limits, labels, privileged, caps, devices, runtime)'));
  // An id-less message's redelivery has a fresh id, so its claim's rename cannot meet the first delivery's container: that is looked for first.
  const looked = ctx.idGenerated && ctx.redelivered;
  const before = looked ? await priorWarmClaim(ctx) : undefined;
  if (before) return { kind: 'taken', name: before };
  const name = claimNameFor(ctx);
  const claimed = await pools.claim(key, name, (member) => {
    const argv = execArgv(spec, member.image);
    return argv.length ? ctx.engine.exec.prepare(member.id, { ...warmExecSetup(argv, spec, stdin), signal: ctx.signal }) : undefined;
  });
  if (claimed === 'taken') return { kind: 'taken', name };
  const looking = looked ? { priorLooked: true as const } : {};
  if (!claimed) return { ...cold(ctx, 'empty', notice(`pool "${pool}" has no idle container`)), ...looking };
  if (execArgv(spec, claimed.image).length === 0) {
    void pools.release(claimed.id).catch(() => undefined);
    return { ...cold(ctx, 'no_command', notice('the run has no command and the image none known')), ...looking };
  }
  return { kind: 'claimed', claimed };
}

/** Runs the command in the claimed container; a member found dead sends the run cold (its command never ran). */
export async function runClaimed(ctx: ActionContext, claimed: Claimed, spec: ContainerSpec, o: WarmOpts): Promise<WarmTry> {
  const pools = ctx.pools!;
  const pool = claimed.pool;
  ctx.log.debug({ pool, container: claimed.name }, 'warm run');
  // Only an exec that never started may send the run cold: once its command ran, a failure (the
  // container removed under it, say) is the run's, not a reason to run it again.
  let started = false;
  try {
    const end = await execWarm(claimed, execArgv(spec, claimed.image), spec, { engine: ctx.engine, signal: ctx.signal, ...o, onStarted: () => void (started = true) });
    pools.metrics?.hit(pool);
    // Removed after the reply (release); killed soon and removed by the sweep should the reply never settle (parked, retried).
    pools.finished(claimed.id);
    return { kind: 'warm', claimed, end };
  } catch (e) {
    void pools.release(claimed.id).catch(() => undefined);
    // The member had died (exec refused: not running): the command never ran, so it runs cold.
    const neverRan = !started || (isBosunError(e) && (e.details as { notStarted?: boolean } | undefined)?.notStarted === true);
    if (neverRan && isBosunError(e) && (e.code === 'conflict' || e.code === 'not_found')) {
      ctx.log.warn({ pool, container: claimed.name, err: e.message }, 'pool container was not running; the run goes cold');
      return cold(ctx, 'empty', o.askedWarm ? { notice: `warm: true was asked, but the run went cold: pool "${pool}" had no live container` } : {});
    }
    throw e;
  }
}

function cold(ctx: ActionContext, reason: ColdReason, n: { notice?: string }): ColdTry {
  ctx.pools?.metrics?.miss(reason);
  return { kind: 'cold', reason, ...n };
}

/** Another delivery holds this request's warm container: its output is not recoverable, and the run is not made twice. */
export function takenOutcome(ctx: ActionContext, name: string): ActionOutcome {
  return {
    ok: false,
    reply: { container: { name }, warm: true },
    error: { code: 'conflict', message: `${ctx.idGenerated ? 'this message (it carries no request id, so it was matched by its body)' : `request ${ctx.requestId}`} already ran (or runs) in warm container ${name}; a warm run's output is not kept, and it is not run twice` },
    afterSettle: async () => {
      // The container of an earlier process of this agent is removed; one a run of this agent still
      // uses, or another agent's (its run may go on), is not.
      const pools = ctx.pools;
      const id = ctx.redelivered && pools && !pools.heldHere(name) ? await pools.ownIdOf(name) : undefined;
      if (id) await pools?.release(id);
    },
  };
}
