/**
 * The run ledger: one row per request that starts a run, shared by every agent on one store,
 * so a request claimed by one agent is not started by another while the first one's lease is
 * alive. Lease times are the store's clock (agents on several hosts agree on it).
 */

/** A request, scoped as the rest of bosun's idempotency is: the same id from another publisher or channel is another run. */
export interface RunKey {
  channel: string;
  /** The publisher the transport vouches for; '' when it names none (Redis, or a policy without users). */
  publisher: string;
  requestId: string;
}

/** A claim held by one agent; `fence` grows at every claim, so a holder that lost its lease cannot write. */
export interface RunLease {
  key: RunKey;
  owner: string;
  fence: number;
  /** 1 for the first start, 2 when a second agent started it after the first one's lease expired, … */
  attempt: number;
}

/** A reply as it is to be published again: channel, body and the options it was sent with. */
export interface StoredReply {
  channel: string;
  body: string;
  messageId?: string;
  correlationId?: string;
  /** Declare the channel (durable) before publishing. */
  declare?: boolean;
}

export type ClaimResult =
  /** Yours to run; `previousHolder` names who held it before (attempt 2 and up). */
  | { kind: 'claimed'; lease: RunLease; previousHolder?: string }
  /** Another agent's run (or this agent's own, still going) whose lease is alive: do not start it. */
  | { kind: 'held'; heldBy: string; attempt: number; remainingMs: number }
  /** Finished and its reply confirmed sent: nothing is owed. */
  | { kind: 'done'; attempt: number }
  /**
   * Finished, but its holder never confirmed the reply and its lease is gone (or it is this
   * agent's own): the claimer now holds the row and owes the stored replies (none when they
   * were too large to store).
   */
  | { kind: 'unsent'; lease: RunLease; replies: StoredReply[] | null };

export interface RunRecord {
  key: RunKey;
  status: 'running' | 'done';
  holder?: string;
  leaseUntil?: number;
  fence: number;
  attempt: number;
  replies: StoredReply[] | null;
  confirmed: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface RunLedger {
  claim(key: RunKey, owner: string, leaseMs: number): Promise<ClaimResult>;
  /** Extends a live lease; false when it was lost (expired and claimed elsewhere, or released). */
  renew(lease: RunLease, leaseMs: number): Promise<boolean>;
  /**
   * Marks the run done with the replies owed, keeping the lease until confirm(); false (and
   * nothing written) when the lease was lost. Replies above the ledger's size limit are not kept.
   */
  finish(lease: RunLease, replies: StoredReply[]): Promise<boolean>;
  /** The replies are out: a later delivery is acked without a reply. Ends the lease (the holder stays, as who ran it). */
  confirm(lease: RunLease): Promise<void>;
  /** Gives a running claim up (the run failed or was handed back): the next claim may start it at once, as a new attempt. */
  release(lease: RunLease): Promise<void>;
  get(key: RunKey): Promise<RunRecord | undefined>;
  /** Forgets finished runs last updated more than `olderThanMs` ago; returns how many. */
  prune(olderThanMs: number): Promise<number>;
  close(): Promise<void>;
}
