/**
 * runAction: one message, in process — decode → validate → policy → idempotency → handle →
 * outcome. The agent's transport loop, `bosun exec`, tests and the workflow runner call it;
 * none of them re-implements a step. It publishes only what the action itself sends while it
 * runs (notices, progress); the replies and the ack are in the result, for the caller to do.
 */
import type { AcceptedMessage, ActionContext, ActionOutcome } from '../actions/types.js';
import { BosunError, toBosunError } from '../domain/errors.js';
import type { Policy } from '../domain/policy.js';
import { policyFor } from '../domain/policy/publishers.js';
import { isReplyChannel } from '../domain/references.js';
import { DEFAULT_MAX_BODY_BYTES, JSON5_MAX_BYTES, checkBorderFields, checkSize, safeId, usableReplyTo } from './border.js';
import type { RunContext, RunResult } from './context.js';
import { decodeBody } from './decode.js';
import { planFailure, planResend } from './failure.js';
import { planProgress, planReplies, publishOptionsOf, successEnvelope, type ReplyPaths } from './reply.js';
import { identify, type RequestIdentity } from './request-id.js';
import { claimRun, finishRun } from './ledger.js';

export type MessageBody = Buffer | string | Record<string, unknown>;

function bytesOf(body: MessageBody): Buffer {
  if (Buffer.isBuffer(body)) return body;
  return Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
}

export async function runAction(channel: string, body: MessageBody, ctx: RunContext): Promise<RunResult> {
  const started = ctx.clock.now();
  const facts = ctx.message ?? {};
  const bytes = bytesOf(body);
  let requestId = safeId(facts.messageId ?? facts.correlationId ?? 'unknown');
  const replyTo = usableReplyTo(facts.replyTo);
  let paths: ReplyPaths = { format: 'envelope', ...(replyTo ? { replyTo } : {}), ...(facts.correlationId ? { correlationId: facts.correlationId } : {}) };
  const failed = (e: unknown): RunResult => planFailure(ctx, { channel, body: bytes, requestId, paths, started }, toBosunError(e));
  const resend: NonNullable<RunResult['onPartialPublishError']> = (answered, undelivered, e) => planResend(ctx, { channel, body: bytes, requestId, paths, started }, answered, undelivered, toBosunError(e));
  try {
    // Decode: nothing of the body is trusted before its size and border fields are checked.
    checkSize(bytes, ctx.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
    const decoded = decodeBody(bytes, ctx.json5MaxBytes ?? JSON5_MAX_BYTES);
    if (typeof decoded.response_channel === 'string' && isReplyChannel(decoded.response_channel)) paths = { ...paths, responseChannel: decoded.response_channel };
    checkBorderFields(decoded);
    const who = identify({ ...facts, channel, body: bytes }, decoded, facts.copyOfIdless === true);
    requestId = who.id;
    const policy = policyFor(ctx.policy, facts.publisher);
    // Idempotency: a checkpointed copy of work this process runs or ran is not run again.
    const copy = facts.resumed && facts.ownCopy ? ctx.hooks?.resumed?.(who.id) : undefined;
    if (copy) return { requestId, durationMs: ctx.clock.now() - started, settle: { kind: copy === 'adopted' ? 'none' : 'ack' } };
    // Validate.
    const action = ctx.registry.get(channel);
    if (!action) throw new BosunError('unknown_channel', `no action listens on channel "${channel}"`, { retryable: false });
    const accepted = action.accept(decoded);
    paths = { ...paths, format: accepted.format };
    if (accepted.replyChannel) paths.responseChannel = accepted.replyChannel;
    else if (action.delivery.replies === 'reply_to') delete paths.responseChannel;
    // Run ledger: a run another agent holds is not started here; one already done is not run again.
    // An id-less message got a fresh random id, which no other delivery can match: it has no row.
    const gate = accepted.runKind && ctx.ledger && who.explicit
      ? await claimRun(ctx, ctx.ledger, { channel, publisher: facts.publisher ?? '', requestId: who.id }, started, failed, resend)
      : undefined;
    if (gate?.kind === 'settled') return gate.result;
    const attempt = gate?.lease.attempt ?? 1;
    let result: RunResult;
    try {
      // Policy (quotas), then handle.
      const runCtx = gate ? { ...ctx, signal: AbortSignal.any([ctx.signal, gate.keepAlive.signal]) } : ctx;
      const outcome = await handle(runCtx, channel, accepted, who, policy, paths, attempt);
      const envelope = { ...successEnvelope(channel, who.id, outcome, ctx.clock.now() - started), ...(attempt > 1 ? { attempt } : {}) };
      result = {
        requestId,
        durationMs: envelope.duration_ms,
        envelope,
        status: envelope.ok ? 'ok' : 'failed',
        settle: { kind: 'reply', replies: planReplies(envelope, paths) },
        ...(outcome.afterSettle ? { afterSettle: outcome.afterSettle } : {}),
        onPublishError: failed,
        onPartialPublishError: resend,
      };
    } catch (e) {
      result = failed(e);
    }
    return gate && ctx.ledger ? await finishRun(ctx, ctx.ledger, gate.lease, gate.keepAlive.stop(), result) : result;
  } catch (e) {
    return failed(e);
  }
}

async function handle(ctx: RunContext, channel: string, accepted: AcceptedMessage, who: RequestIdentity, policy: Policy, paths: ReplyPaths, attempt: number): Promise<ActionOutcome> {
  const facts = ctx.message ?? {};
  // The agent's own copies (checkpoints, retries) and a run another agent started before (attempt 2+) are repeats of a run already admitted.
  const repeat = attempt > 1 || Boolean(facts.redelivered) || (Boolean(facts.ownCopy) && (Boolean(facts.resumed) || (facts.attempts ?? 0) > 0));
  const release = accepted.runKind ? await ctx.quotas.admit(policy.quotas, facts.publisher, who.id, accepted.runKind, repeat) : () => undefined;
  const ended = ctx.hooks?.started?.(who.id);
  let seq = 0;
  const actx: ActionContext = {
    engine: ctx.engine,
    policy,
    log: ctx.log.child({ channel, request: who.id }),
    clock: ctx.clock,
    requestId: who.id,
    requestIdGiven: who.explicit,
    idGenerated: who.generated,
    bodyHash: who.bodyHash,
    redelivered: repeat,
    channel,
    ...(facts.publisher !== undefined ? { publisher: facts.publisher } : {}),
    ...(paths.replyTo ? { replyTo: paths.replyTo } : {}),
    ...(paths.correlationId ? { correlationId: paths.correlationId } : {}),
    signal: ctx.signal,
    ...(ctx.pools ? { pools: ctx.pools } : {}),
    publish: (to, body) => ctx.publish(to, JSON.stringify(body), { declare: true }),
    async publishProgress(body) {
      for (const r of planProgress(paths, who.id, seq++, body)) await ctx.publish(r.channel, r.body, publishOptionsOf(r));
    },
  };
  try {
    return await accepted.handle(actx);
  } finally {
    ended?.();
    release();
  }
}
