/**
 * Does what a RunResult says on the transport: publish the replies and ack, park and ack,
 * or hand the message back (as it is, or as a copy carrying its attempt count).
 */
import type { InboundMessage, Transport } from '../ports/transport.js';
import type { RunResult } from '../pipeline/context.js';
import { publishOptionsOf, type OutboundReply } from '../pipeline/reply.js';
import { sleep } from '../util/abort.js';
import type { Logger } from '../util/log.js';
import { ATTEMPTS_HEADER, copyOptions } from './copies.js';
import type { AgentMetrics } from './metrics.js';

export interface SettlerDeps {
  transport: Transport;
  log: Logger;
  metrics?: AgentMetrics;
  /** The delivery whose ack is owed for this request (a checkpoint may have replaced it); it stops being tracked. */
  owed(requestId: string, msg: InboundMessage): InboundMessage;
  /** The request's work is finished and its outcome is being sent: a checkpoint copy of it that comes from now on is only acked. */
  done(requestId: string): void;
  /** Aborted on shutdown: a reply being re-sent is parked at once instead of waiting out its backoff. */
  signal?: AbortSignal;
}

export class Settler {
  constructor(private readonly d: SettlerDeps) {}

  async settle(msg: InboundMessage, r: RunResult, publisher: string | undefined): Promise<void> {
    const s = r.settle;
    if (s.kind === 'none') return;
    if (s.kind === 'ack') return msg.ack();
    return this.settleOwed(this.d.owed(r.requestId, msg), msg, r, publisher);
  }

  private async settleOwed(owed: InboundMessage, msg: InboundMessage, r: RunResult, publisher: string | undefined): Promise<void> {
    const s = r.settle;
    if (r.status && s.kind !== 'reply' && s.kind !== 'resend') this.d.metrics?.observe(msg.channel, r.status, r.durationMs);
    switch (s.kind) {
      case 'reply': {
        this.d.done(r.requestId);
        // Side by side: reply_to does not wait for the response_channel's durable confirm.
        const sent = await Promise.allSettled(s.replies.map((reply) => this.publish(reply)));
        const refused = s.replies.filter((_, i) => sent[i]?.status === 'rejected');
        if (refused.length) {
          const err: unknown = sent.find((x): x is PromiseRejectedResult => x.status === 'rejected')?.reason;
          // A path that has its reply must not get a second, different one: only the refused replies are sent again.
          const answered = s.replies.filter((x) => !refused.includes(x));
          if (answered.length && r.onPartialPublishError) return this.settleOwed(owed, msg, { ...r, settle: r.onPartialPublishError(answered, refused, err) }, publisher);
          if (r.onPublishError) return this.settleOwed(owed, msg, r.onPublishError(err), publisher);
          throw err;
        }
        try {
          await owed.ack();
        } catch (e) {
          if (r.onPublishError) return this.settleOwed(owed, msg, r.onPublishError(e), publisher);
          throw e;
        }
        return this.answered(msg, r);
      }
      case 'resend': {
        let left = s.replies;
        for (const delayMs of s.delaysMs) {
          await sleep(delayMs, this.d.signal);
          if (this.d.signal?.aborted) break;
          const sent = await Promise.allSettled(left.map((reply) => this.publish(reply)));
          left = left.filter((_, i) => sent[i]?.status === 'rejected');
          if (!left.length) break;
        }
        try {
          if (left.length) {
            this.d.log.warn({ requestId: r.requestId, channels: left.map((x) => x.channel) }, 'a reply the broker kept refusing is parked on the errors queue (the run is not done again)');
            await this.publish(s.record);
          }
          await owed.ack();
        } catch (e) {
          if (r.onPublishError) return this.settleOwed(owed, msg, r.onPublishError(e), publisher);
          throw e;
        }
        return this.answered(msg, r);
      }
      case 'park': {
        try {
          await this.publish(s.record);
        } catch (e) {
          this.d.log.error({ err: (e as Error).message, requestId: r.requestId }, 'could not park the rejected message; requeueing');
          return owed.nack({ requeue: true });
        }
        // Parked: from here the message is settled whatever happens to the reply, so it is parked exactly once.
        // Each reply path on its own: a response_channel that refuses the reply must not silence reply_to.
        for (const reply of s.replies) {
          await this.publish(reply).catch((e: unknown) =>
            this.d.log.warn({ err: (e as Error).message, requestId: r.requestId, channel: reply.channel }, 'rejected message parked, but its error reply could not be sent'),
          );
        }
        return owed.ack();
      }
      case 'requeue':
        if (s.delayMs > 0) await sleep(s.delayMs);
        return owed.nack({ requeue: true });
      case 'retry': {
        await sleep(s.delayMs);
        const identity = this.d.transport.identity;
        try {
          await this.d.transport.publish(msg.channel, owed.body, copyOptions(identity, owed, r.requestId, publisher, { ...owed.headers, [ATTEMPTS_HEADER]: String(s.attempts) }));
          await owed.ack();
        } catch (e) {
          this.d.log.warn({ err: (e as Error).message, requestId: r.requestId }, 'could not hand the message back with its attempt count; requeueing it as is');
          await owed.nack({ requeue: true });
        }
      }
    }
  }

  /** The message is answered and acked: counted, then its cleanup. */
  private async answered(msg: InboundMessage, r: RunResult): Promise<void> {
    if (r.status) this.d.metrics?.observe(msg.channel, r.status, r.durationMs);
    if (r.afterSettle) await r.afterSettle().catch((e) => this.d.log.warn({ err: (e as Error).message, requestId: r.requestId }, 'cleanup after reply failed'));
  }

  private publish(r: OutboundReply): Promise<void> {
    return this.d.transport.publish(r.channel, r.body, publishOptionsOf(r));
  }
}
