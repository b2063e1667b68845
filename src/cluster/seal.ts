/**
 * Authenticated cluster messages. Whoever can publish to the broker must not be able to order a
 * node to run a container, nor tell the server a replica runs or stopped. Every server → node
 * order and node → server report travels sealed: HMAC-SHA256 with the cluster's shared key over
 * the exact payload bytes, the payload carrying sender, recipient, a timestamp and a nonce.
 * A receiver refuses unsigned, mis-signed, misaddressed, stale (older than the window) and
 * replayed (nonce already seen in the window) messages.
 *
 * Wire form: {"v":1,"payload":"<JSON text of {ts, nonce, from, to, msg}>","sig":"<base64url>"}.
 * Signing the payload's text (not a re-serialisation of it) makes the signed bytes canonical.
 */
import { systemClock, type Clock } from '../ports/clock.js';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { BosunError } from '../domain/errors.js';

/** The recipient name of reports (any server may consume them); not a valid node name. */
export const SERVERS = '@servers';

export const REJECT_REASONS = ['unsigned', 'bad_signature', 'malformed', 'stale', 'replayed', 'misaddressed', 'no_key'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** A message refused by its receiver; `reason` is for logs and metrics, the code is always policy_denied. */
export class RejectedMessage extends BosunError {
  constructor(readonly reason: RejectReason, message: string, field: string) {
    super('policy_denied', message, { field, retryable: false, details: { reason } });
  }
}

const envelopeSchema = z.object({ v: z.literal(1), payload: z.string(), sig: z.string() }).strict();
const payloadSchema = z.object({ ts: z.number(), nonce: z.string().min(16).max(64), from: z.string(), to: z.string(), msg: z.unknown() }).strict();

export interface SealerOptions {
  /** The shared cluster key; undefined only in --insecure-no-auth mode (messages travel unsigned). */
  key: Buffer | undefined;
  /** Who this process is: a node's name, or SERVERS for a server. */
  self: string;
  /** How old (or how far in the future, for clock skew) a message may be. */
  maxAgeMs?: number;
  clock?: Clock;
}

export interface Opened {
  /** The authenticated sender; undefined when unsigned (insecure mode). */
  from: string | undefined;
  /** The inner message's JSON text, to be validated by the caller. */
  body: string;
}

export const DEFAULT_MAX_AGE_MS = 60_000;

export class Sealer {
  private readonly seen = new Map<string, number>();
  private lastPrune = 0;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(private readonly o: SealerOptions) {
    this.maxAgeMs = o.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    const clock = o.clock ?? systemClock;
    this.now = () => clock.now();
  }

  get signed(): boolean {
    return this.o.key !== undefined;
  }

  seal(to: string, msg: object): string {
    if (!this.o.key) return JSON.stringify(msg);
    const payload = JSON.stringify({ ts: this.now(), nonce: randomBytes(16).toString('hex'), from: this.o.self, to, msg });
    return JSON.stringify({ v: 1, payload, sig: mac(this.o.key, payload) });
  }

  /** Verifies and unwraps; throws RejectedMessage. Without a key, only unsigned messages are taken. */
  open(raw: Buffer | string): Opened {
    const text = raw.toString();
    const env = parseEnvelope(text);
    if (!this.o.key) {
      if (env) throw new RejectedMessage('no_key', 'a signed message arrived but this process has no cluster key to verify it (start it with --cluster-key)', 'sig');
      return { from: undefined, body: text };
    }
    if (!env) throw new RejectedMessage('unsigned', 'unsigned message refused: cluster messages must be sealed with the cluster key', 'sig');
    if (!macEqual(mac(this.o.key, env.payload), env.sig)) throw new RejectedMessage('bad_signature', 'message signature does not match the cluster key', 'sig');
    let p: z.infer<typeof payloadSchema>;
    try {
      p = payloadSchema.parse(JSON.parse(env.payload));
    } catch {
      throw new RejectedMessage('malformed', 'signed payload is not {ts, nonce, from, to, msg}', 'payload');
    }
    if (p.to !== this.o.self) throw new RejectedMessage('misaddressed', `message for ${p.to} refused by ${this.o.self}`, 'to');
    const now = this.now();
    if (Math.abs(now - p.ts) > this.maxAgeMs) throw new RejectedMessage('stale', `message sent ${now - p.ts} ms ago is outside the ${this.maxAgeMs} ms window`, 'ts');
    this.prune(now);
    if (this.seen.has(p.nonce)) throw new RejectedMessage('replayed', 'message already received (nonce seen before): replay refused', 'nonce');
    this.seen.set(p.nonce, p.ts + this.maxAgeMs);
    return { from: p.from, body: JSON.stringify(p.msg) };
  }

  /** Nonces are kept while their message could still pass the age check; only verified ones are stored. */
  private prune(now: number): void {
    if (now - this.lastPrune < 1_000) return;
    this.lastPrune = now;
    for (const [nonce, until] of this.seen) if (until < now) this.seen.delete(nonce);
  }
}

function parseEnvelope(text: string): z.infer<typeof envelopeSchema> | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = envelopeSchema.safeParse(raw);
  return r.success ? r.data : undefined;
}

function mac(key: Buffer, payload: string): string {
  return createHmac('sha256', key).update(payload, 'utf8').digest('base64url');
}

function macEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
