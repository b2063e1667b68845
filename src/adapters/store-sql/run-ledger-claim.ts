/**
 * Pure: what a claim does to an existing ledger row, given the store's `now`. A live lease is
 * never taken over, not even by its own holder (a second delivery while the run still goes);
 * only an expired or released one is, and that counts as a new attempt.
 */
export interface LedgerRowView {
  status: 'running' | 'done';
  holder: string | null;
  leaseUntil: number | null;
  confirmed: boolean;
  attempt: number;
}

export type ClaimDecision =
  | { kind: 'done' }
  | { kind: 'held'; heldBy: string; remainingMs: number }
  /** Take the row: a new attempt of a running row, or the resend of a finished one's replies. */
  | { kind: 'take'; newAttempt: boolean };

export function decideClaim(row: LedgerRowView, owner: string, now: number): ClaimDecision {
  const live = row.holder !== null && row.leaseUntil !== null && row.leaseUntil >= now;
  if (row.status === 'done') {
    if (row.confirmed) return { kind: 'done' };
    // The holder may be publishing right now; only when it is gone (or it is us) is the reply ours to send.
    if (live && row.holder !== owner) return { kind: 'held', heldBy: row.holder!, remainingMs: row.leaseUntil! - now };
    return { kind: 'take', newAttempt: false };
  }
  if (live) return { kind: 'held', heldBy: row.holder!, remainingMs: row.leaseUntil! - now };
  return { kind: 'take', newAttempt: true };
}
