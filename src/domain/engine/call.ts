/**
 * Options every engine call takes. `signal` cancels the call; `timeoutMs` bounds it (each call
 * has a default, see the adapter; long-running calls such as wait, attach and event streams have
 * none unless one is given). Either ends the call with BosunError `timeout`.
 */
export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}
