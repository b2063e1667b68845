/**
 * The run-ledger step of runAction: a message whose action starts a run claims its request id
 * first. Another agent's live lease hands the message back (requeue, not counted: the
 * redelivery limit never parks it for waiting); a finished run is acked without a second
 * reply, or its stored replies are sent when their first sending was never confirmed.
 * While the run goes on its lease is renewed; the reply is stored (finish) before it is
 * published, and confirmed after.
 */
import { BosunError } from '../domain/errors.js';
import type { RunKey, RunLease, RunLedger, StoredReply } from '../ports/run-ledger.js';
import type { Logger } from '../util/log.js';
import type { RunContext, RunResult } from './context.js';
import type { OutboundReply } from './reply.js';

export interface LedgerDeps {
  ledger: RunLedger;
  /** This agent's name in the ledger (unique per process). */
  owner: string;
  leaseMs: number;
}

export const DEFAULT_LEASE_MS = 30_000;

/** How long a held message waits before it is handed back (the broker gives it straight back when no one else takes it). */
const HELD_DELAY_MIN_MS = 100;
const HELD_DELAY_MAX_MS = 2_000;

export type Gate =
  | { kind: 'run'; lease: RunLease; keepAlive: KeepAlive }
  | { kind: 'settled'; result: RunResult };

export interface KeepAlive {
  /** Aborted once the lease is known lost (refused, or unconfirmed past its end): the run must stop. */
  signal: AbortSignal;
  /** Stops renewing; true when the lease was seen lost meanwhile. */
  stop(): boolean;
}

/**
 * failed: what a failure of this message becomes (planFailure): stored replies none of which can be
 * re-sent are retried and parked as any other. resend: when only some can (planResend), the others
 * are sent again, as a fresh run's are.
 */
export async function claimRun(ctx: RunContext, d: LedgerDeps, key: RunKey, started: number, failed: (e: unknown) => RunResult, resend: NonNullable<RunResult['onPartialPublishError']>): Promise<Gate> {
  const { requestId } = key;
  const durationMs = (): number => ctx.clock.now() - started;
  const c = await d.ledger.claim(key, d.owner, d.leaseMs);
  switch (c.kind) {
    case 'claimed':
      return { kind: 'run', lease: c.lease, keepAlive: keepAlive(d, c.lease, ctx.log, () => ctx.clock.now()) };
    case 'held': {
      const delayMs = Math.min(HELD_DELAY_MAX_MS, Math.max(HELD_DELAY_MIN_MS, c.remainingMs));
      ctx.log.info({ requestId, heldBy: c.heldBy, attempt: c.attempt, remainingMs: c.remainingMs }, 'run held by another agent; handed back until its lease ends');
      // Handed back to the tail (a copy with its attempt count unchanged: waiting is not a failure), not
      // nacked to the head: a requeued message goes back where it was, and the same consumer (its slot
      // free again) takes it at once, so nothing queued behind it would ever be served while the lease lives.
      return { kind: 'settled', result: { requestId, durationMs: durationMs(), status: 'requeued', settle: { kind: 'retry', attempts: ctx.message?.attempts ?? 0, delayMs } } };
    }
    case 'done':
      // A fresh message (not the broker's redelivery, not this agent's own copy) reusing a done id is
      // another request, or a sender's retry: silence would leave it waiting forever (24 h retention).
      if (!ctx.message?.redelivered && !ctx.message?.ownCopy) {
        throw new BosunError('conflict', `request_id ${requestId} was already run (attempt ${c.attempt}) and answered; use a new request_id for a new run`, { field: 'request_id', retryable: false });
      }
      ctx.log.info({ requestId, attempt: c.attempt }, 'run already done and answered; acked without a second reply');
      return { kind: 'settled', result: { requestId, durationMs: durationMs(), settle: { kind: 'ack' } } };
    case 'unsent': {
      if (c.replies === null) {
        ctx.log.warn({ requestId }, 'run done but its reply was never confirmed, and it was too large to keep: not re-sent');
        await d.ledger.confirm(c.lease);
        return { kind: 'settled', result: { requestId, durationMs: durationMs(), settle: { kind: 'ack' } } };
      }
      ctx.log.info({ requestId, attempt: c.lease.attempt }, 'run done but its reply was never confirmed; sending the stored reply');
      const replies = c.replies.map((r) => outboundOf(r, requestId));
      return {
        kind: 'settled',
        result: {
          requestId, durationMs: durationMs(), settle: { kind: 'reply', replies },
          afterSettle: () => d.ledger.confirm(c.lease),
          // Counted as any refused reply: handed back with its attempt count, then parked as redelivery_limit
          // (an uncounted requeue here went round every 2 s for ever while a response_channel refused).
          onPublishError: failed,
          onPartialPublishError: resend,
        },
      };
    }
  }
}

/** After the handler: the replies are stored before they are published; a holder fenced out meanwhile sends nothing. */
export async function finishRun(ctx: RunContext, d: LedgerDeps, lease: RunLease, lost: boolean, result: RunResult): Promise<RunResult> {
  const { requestId } = lease.key;
  if (result.settle.kind !== 'reply') {
    await d.ledger.release(lease).catch((e: unknown) => ctx.log.warn({ err: (e as Error).message, requestId }, 'could not release the run ledger claim; it ends with its lease'));
    return result;
  }
  let stored: boolean;
  try {
    stored = await d.ledger.finish(lease, result.settle.replies);
  } catch (e) {
    // The reply is owed either way; acked after it, the message is not delivered again.
    ctx.log.error({ err: (e as Error).message, requestId }, 'could not record the finished run in the ledger; replying anyway');
    return result;
  }
  if (!stored) {
    ctx.log.warn({ requestId, attempt: lease.attempt, renewalLost: lost }, 'run ledger lease lost during the run: another agent took the request over; this reply is dropped');
    return { requestId, durationMs: result.durationMs, settle: { kind: 'ack' } };
  }
  const after = result.afterSettle;
  return {
    ...result,
    afterSettle: async () => {
      await d.ledger.confirm(lease);
      if (after) await after();
    },
  };
}

/**
 * Renews every third of the lease. The lease counts as lost when the store refuses a renewal, and
 * also when renewals keep failing (or hang) past the end of the last one confirmed: by then another
 * agent may hold it, so the run is told to stop (`signal`) rather than go on beside attempt 2.
 */
function keepAlive(d: LedgerDeps, lease: RunLease, log: Logger, now: () => number): KeepAlive {
  const lostCtl = new AbortController();
  const every = Math.max(50, Math.floor(d.leaseMs / 3));
  // A margin for the store's clock and the round trip: the lease is taken as ended this much early.
  let validUntil = now() + d.leaseMs - every;
  let busy = false;
  const lose = (why: string): void => {
    if (lostCtl.signal.aborted) return;
    log.warn({ requestId: lease.key.requestId }, `run ledger lease lost while the run goes on (${why}); the run is stopped`);
    lostCtl.abort(new BosunError('conflict', `run ledger lease of ${lease.key.requestId} lost: ${why}`, { retryable: true }));
  };
  const timer = setInterval(() => {
    if (lostCtl.signal.aborted) return;
    if (busy) {
      if (now() > validUntil) lose('renewals hang past the lease');
      return;
    }
    busy = true;
    const sent = now();
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${every} ms`)), every).unref());
    Promise.race([d.ledger.renew(lease, d.leaseMs), timeout]).then(
      (ok) => {
        if (ok) validUntil = sent + d.leaseMs - every;
        else lose('another agent holds it');
      },
      (e: unknown) => {
        if (now() > validUntil) lose(`renewals failed past the lease: ${(e as Error).message}`);
        else log.warn({ err: (e as Error).message, requestId: lease.key.requestId }, 'run ledger lease renewal failed; retrying');
      },
    ).finally(() => (busy = false));
  }, every);
  timer.unref();
  return {
    signal: lostCtl.signal,
    stop() {
      clearInterval(timer);
      return lostCtl.signal.aborted;
    },
  };
}

function outboundOf(r: StoredReply, requestId: string): OutboundReply {
  return {
    channel: r.channel, body: r.body, messageId: r.messageId ?? requestId, declare: r.declare ?? false,
    ...(r.correlationId !== undefined ? { correlationId: r.correlationId } : {}),
  };
}
