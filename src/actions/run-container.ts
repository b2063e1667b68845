/**
 * The run path shared by seed 000's start_container.* channels and seed 003's dispatch run.
 * Idempotent: a redelivered request finds the container it made (by request label) and
 * reports on it instead of making a second one.
 */
import { randomBytes } from 'node:crypto';
import { LABEL } from '../domain/labels.js';
import { applyPolicyDefaults } from '../domain/policy.js';
import { enforcePolicyOnHost } from '../host/policy.js';
import { applyLimits, outputLimitBytes, streamLimits } from '../domain/policy/limits.js';
import { ensureMayActOn, ensureUserLabels } from '../domain/policy/ownership.js';
import type { ContainerDetails, ContainerSpec, ContainerSummary } from '../domain/engine/index.js';
import { prepareImage, type PreparedImage } from './image-source.js';
import { REPLY_OUTPUT_LIMIT, attachOutput, followOutput, superviseRun, type OutputReader, type RunEnd, type RunIO } from './run-output.js';
import { claimWarm, priorWarmClaim, runClaimed, takenOutcome } from '../warm/warm-path.js';
import { OutputStreamer } from './run-stream.js';
import { BosunError } from '../domain/errors.js';
import { buildRunSpec } from './run-spec.js';
import type { RunInput } from './schemas/run.js';
import type { ActionContext, ActionOutcome } from './types.js';

/**
 * The container an earlier delivery of this request made, if any. Only bosun's own containers
 * count: the request label is bosun's to set (messages cannot set bosun.* labels).
 */
export async function findPriorRun(ctx: ActionContext): Promise<ContainerSummary | undefined> {
  // A fresh message with a random id cannot have made anything yet.
  if (!ctx.redelivered && !ctx.requestIdGiven) return undefined;
  // With named publishers, a request id or body another publisher sent finds nothing of theirs.
  const mine = { [LABEL.managed]: 'true', ...(ctx.publisher !== undefined ? { [LABEL.publisher]: ctx.publisher } : {}) };
  const byId = await ctx.engine.containers.list({ all: true, labels: { [LABEL.request]: ctx.requestId, ...mine } });
  if (byId[0]) return byId[0];
  if (!ctx.redelivered) return undefined;
  const byHash = await ctx.engine.containers.list({ all: true, labels: { [LABEL.bodyHash]: ctx.bodyHash, ...mine } });
  return byHash.sort((a, b) => b.created - a.created)[0];
}

async function specFor(ctx: ActionContext, input: RunInput, attached: boolean, image: 'ready' | Promise<PreparedImage> | undefined = undefined): Promise<{ spec: ContainerSpec; buildLog?: string }> {
  // ready: a warm pool may serve the run, and a pool's image is on the host; checked later if the run goes cold.
  const prepared: { image: string; buildLog?: string } = image === 'ready' ? { image: input.image } : await (image ?? prepareImage(ctx, input));
  const spec = buildRunSpec(input, {
    requestId: ctx.requestId,
    bodyHash: ctx.bodyHash,
    channel: ctx.channel,
    image: prepared.image,
    uuid: randomBytes(16).toString('hex'),
    ...(process.env.TZ ? { hostTz: process.env.TZ } : hostTimezone()),
    attached,
    ...(ctx.publisher !== undefined ? { publisher: ctx.publisher } : {}),
  });
  // Our own name when none is given (as seed 003 gave a random one): no inspect needed to report it.
  spec.name ??= `bosun-${randomBytes(6).toString('hex')}`;
  // Bind sources are checked as given and must be real paths (a symlink is refused, never resolved: Docker would resolve it again at every restart).
  const resolved = applyLimits(ctx.policy, applyPolicyDefaults(ctx.policy, spec));
  enforcePolicyOnHost(ctx.policy, resolved);
  return { spec: resolved, ...(prepared.buildLog !== undefined ? { buildLog: prepared.buildLog } : {}) };
}

// Once: a DateTimeFormat costs 0.1–0.3 ms on every run's path, and V8 keeps the zone it found at start anyway (TZ set in the environment is read above).
let hostTz: { hostTz?: string } | undefined;
function hostTimezone(): { hostTz?: string } {
  if (!hostTz) {
    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    hostTz = tz ? { hostTz: tz } : {};
  }
  return hostTz;
}

/** Create then start; a container whose start fails is removed, so nothing half-made is left behind. */
async function createAndStart(ctx: ActionContext, spec: ContainerSpec, beforeStart?: (id: string) => Promise<void>): Promise<string> {
  const { id } = await ctx.engine.containers.create(spec);
  try {
    await beforeStart?.(id);
    await ctx.engine.containers.start(id);
  } catch (e) {
    await ctx.engine.containers.remove(id, { force: true }).catch(() => undefined);
    throw e;
  }
  return id;
}

/** Validates the policy side of a run before any image work (cheap refusals first). */
function precheck(ctx: ActionContext, input: RunInput): void {
  ensureUserLabels(input.labels);
  const spec = buildRunSpec(input, { requestId: ctx.requestId, bodyHash: ctx.bodyHash, channel: ctx.channel, image: input.image, uuid: '0', attached: false });
  enforcePolicyOnHost(ctx.policy, applyLimits(ctx.policy, applyPolicyDefaults(ctx.policy, spec)));
}

/** The container of the run's name, when there is one; a container bosun did not make is refused (policy container_scope). */
async function existingByName(ctx: ActionContext, input: RunInput): Promise<ContainerDetails | undefined> {
  const existing = input.name ? await ctx.engine.containers.inspect(input.name) : undefined;
  if (existing) ensureMayActOn(ctx.policy, 'container', existing.name, existing.labels, 'name', ctx.publisher);
  return existing;
}

/** Detached run (start_container.create): create+start, or start the existing container of that name. */
export async function runDetached(ctx: ActionContext, input: RunInput): Promise<ActionOutcome> {
  precheck(ctx, input);
  const prior = await findPriorRun(ctx);
  if (prior) {
    if (prior.status !== 'running') await ctx.engine.containers.start(prior.id);
    return { reply: { container: { id: prior.id, name: prior.name }, result: { created: false, started: true, redelivery: true } } };
  }
  const existing = await existingByName(ctx, input);
  if (existing) {
    const wasRunning = existing.state.running;
    if (!wasRunning) await ctx.engine.containers.start(existing.id);
    return { reply: { container: { id: existing.id, name: existing.name }, result: { created: false, started: !wasRunning, was_running: wasRunning } } };
  }
  const { spec, buildLog } = await specFor(ctx, input, false);
  const id = await createAndStart(ctx, spec);
  return {
    reply: { container: { id, name: spec.name ?? id }, result: { created: true, started: true, ...(buildLog !== undefined ? { build_log: buildLog } : {}) } },
  };
}

export interface AttachedOptions {
  remove: boolean;
  /** Publish the output live as chunks before the final envelope (src/actions/run-stream.ts). */
  stream?: boolean | undefined;
  /** Written to the run's stdin, which is then closed. */
  stdin?: string | undefined;
}

/**
 * Attached run (start_container.response_channel, dispatch run with Attach): run to exit and
 * report exit code, stdout and stderr. A non-zero exit is reported (ok: false), never dropped.
 */
export async function runAttached(ctx: ActionContext, input: RunInput, opts: AttachedOptions): Promise<ActionOutcome> {
  const streamer = opts.stream
    ? new OutputStreamer(ctx.requestId, (chunk) => ctx.publishProgress(chunk), { limits: streamLimits(ctx.policy), onError: (e) => ctx.log.warn({ err: (e as Error).message }, 'live output: a chunk could not be published; no more are sent') })
    : undefined;
  try {
    const outcome = await attached(ctx, input, opts, { onOutput: streamer?.onOutput, stdin: opts.stdin });
    if (streamer) outcome.reply.streamed = await streamer.finish();
    return outcome;
  } catch (e) {
    streamer?.abort();
    throw e;
  }
}

async function attached(ctx: ActionContext, input: RunInput, opts: { remove: boolean }, io: RunIO): Promise<ActionOutcome> {
  precheck(ctx, input);
  let id: string;
  let name: string;
  let created = false;
  let buildLog: string | undefined;
  let reader: OutputReader | undefined;
  let notice: string | undefined;
  const outputLimit = outputLimitBytes(ctx.policy);
  const timeoutMs = Math.min(input.timeout ?? ctx.policy.max_timeout_s, ctx.policy.max_timeout_s) * 1000;
  // A run a pool may serve claims its container while an earlier cold run of the request is looked for.
  const mayBeWarm = ctx.pools !== undefined && !input.build && input.pull !== 'always' && input.pull !== true;
  const warmInput = { ...input, warm: 'warm' in input ? input.warm : undefined };
  const made = mayBeWarm && !input.name ? await specFor(ctx, input, true, 'ready') : undefined;
  const claiming = made ? claimWarm(ctx, warmInput, made.spec, opts.remove, io.stdin !== undefined) : undefined;
  // What a run going cold needs besides (whether an earlier delivery ran warm, the image) is read
  // beside the look-up for an earlier cold run: reads either way (a build waits until it is needed).
  const cold = claiming ? claiming.then((c) => (c.kind === 'cold' ? c : undefined), () => undefined) : Promise.resolve({ priorLooked: undefined });
  const goesCold = cold.then((c) => c !== undefined);
  const warmBefore = cold.then((c) => (c && !c.priorLooked ? priorWarmClaim(ctx) : undefined));
  const image = !input.build && input.pull !== 'always' && input.pull !== true ? goesCold.then((isCold) => (isCold ? prepareImage(ctx, input) : undefined)) : undefined;
  warmBefore.catch(() => undefined);
  image?.catch(() => undefined);
  const prior = await findPriorRun(ctx).catch(async (e: unknown) => {
    const c = await claiming?.catch(() => undefined);
    if (c?.kind === 'claimed') void ctx.pools?.release(c.claimed.id).catch(() => undefined);
    throw e;
  });
  const claim = await claiming;
  if (prior) {
    if (claim?.kind === 'claimed') void ctx.pools?.release(claim.claimed.id).catch(() => undefined);
    ({ id, name } = prior);
    // Made but never started (the agent stopped in between): attached now, so its stdin is written and its output seen from the start.
    if (prior.status === 'created') {
      reader = await attachOutput(ctx, id, outputLimit, io);
      await ctx.engine.containers.start(id);
    }
  } else {
    if (claim?.kind === 'taken') return takenOutcome(ctx, claim.name);
    const claimedBefore = await warmBefore;
    if (claimedBefore) return takenOutcome(ctx, claimedBefore);
    const existing = await existingByName(ctx, input);
    if (existing) {
      if (io.stdin !== undefined) throw new BosunError('invalid_message', `stdin: container ${existing.name} already exists; stdin goes only to a container the run creates`, { field: 'stdin', retryable: false });
      ({ id, name } = existing);
      if (!existing.state.running) await ctx.engine.containers.start(id);
    } else {
      const imageOf = async () => (await image) ?? prepareImage(ctx, input);
      const spec = made ?? (await specFor(ctx, input, true, mayBeWarm ? 'ready' : imageOf()));
      buildLog = spec.buildLog;
      const taken = claim ?? (await claimWarm(ctx, warmInput, spec.spec, opts.remove, io.stdin !== undefined));
      if (taken.kind === 'taken') return takenOutcome(ctx, taken.name);
      const warm = taken.kind === 'claimed'
        ? await runClaimed(ctx, taken.claimed, spec.spec, { askedWarm: warmInput.warm === true, timeoutMs, outputLimit, replyLimit: REPLY_OUTPUT_LIMIT, ...io })
        : taken;
      if (warm.kind === 'warm') {
        const { claimed } = warm;
        return runOutcome({ id: claimed.id, name: claimed.name }, warm.end, { outputLimit, timeoutMs, buildLog, warm: true, cleanup: () => ctx.pools?.release(claimed.id) ?? Promise.resolve() });
      }
      notice = warm.notice;
      if (mayBeWarm) await imageOf();
      if (io.stdin !== undefined) Object.assign(spec.spec, { openStdin: true, stdinOnce: true });
      id = await createAndStart(ctx, spec.spec, async (newId) => void (reader = await attachOutput(ctx, newId, outputLimit, io)));
      created = true;
      name = spec.spec.name ?? id;
    }
  }
  const end = await superviseRun(ctx, id, reader ?? followOutput(ctx, id, outputLimit, io.onOutput), { timeoutMs });
  const mine = created || prior !== undefined;
  return runOutcome({ id, name }, end, {
    outputLimit, timeoutMs, buildLog, notice, ...(ctx.pools ? { warm: false } : {}),
    ...(opts.remove && mine ? { cleanup: () => ctx.engine.containers.remove(id, { force: true }) } : {}),
  });
}

interface OutcomeOpts {
  outputLimit: number;
  timeoutMs: number;
  buildLog?: string | undefined;
  notice?: string | undefined;
  warm?: boolean;
  cleanup?: () => Promise<void>;
}

/** The reply of a finished attached run, cold or warm alike. */
function runOutcome(container: { id: string; name: string }, end: RunEnd, o: OutcomeOpts): ActionOutcome {
  const { out } = end;
  const finished = !end.timedOut && !end.overLimit;
  const result = { ...(o.buildLog !== undefined ? { build_log: o.buildLog } : {}), ...(o.notice !== undefined ? { notice: o.notice } : {}) };
  const outcome: ActionOutcome = {
    ok: finished && end.exitCode === 0,
    reply: {
      container,
      stdout: out.stdout,
      stderr: out.stderr,
      stdout_bytes: out.stdoutBytes,
      stderr_bytes: out.stderrBytes,
      truncated: out.truncated,
      ...(finished ? { exit_code: end.exitCode } : {}),
      ...(o.warm !== undefined ? { warm: o.warm } : {}),
      ...(Object.keys(result).length ? { result } : {}),
    },
    ...(o.cleanup ? { afterSettle: o.cleanup } : {}),
  };
  if (end.overLimit) {
    outcome.error = { code: 'output_limit', message: `the run wrote more than ${o.outputLimit} bytes of output (the policy's output_bytes); it was stopped` };
  } else if (end.timedOut) outcome.error = { code: 'timeout', message: `the run did not finish within ${o.timeoutMs / 1000} s; it was stopped`, field: 'timeout' };
  else if (end.exitCode !== 0) outcome.error = { code: 'nonzero_exit', message: `the container exited with code ${end.exitCode}` };
  return outcome;
}
