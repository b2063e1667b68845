/** How the cluster API answers an error: bosun's codes as they are, fastify's by their code (never their text). */
import { BosunError, isBosunError, type ErrorCode } from '../../domain/errors.js';
import type { Logger } from '../../util/log.js';

// 401 (no or wrong token) is answered by the auth hook; policy_denied here is a spec the policy refuses
export const STATUS: Partial<Record<ErrorCode, number>> = { bad_json: 400, invalid_message: 400, not_found: 404, conflict: 409, policy_denied: 403, store_error: 503, broker_error: 503 };

/** fastify's body-parser errors for a body that is not JSON (empty, malformed, or poisoned with __proto__). */
const NOT_JSON = new Set(['FST_ERR_CTP_INVALID_JSON_BODY', 'FST_ERR_CTP_EMPTY_JSON_BODY']);

export function toApiError(e: unknown, log: Logger): BosunError {
  if (isBosunError(e)) return e;
  const fe = e as { statusCode?: number; message?: string; code?: string };
  if (fe.statusCode && fe.statusCode < 500) return new BosunError(fe.code && NOT_JSON.has(fe.code) ? 'bad_json' : 'invalid_message', fe.message ?? 'bad request');
  log.error({ err: (e as Error).message }, 'api error');
  return new BosunError('internal', 'internal error');
}

export function errorBody(err: BosunError): { error: { code: ErrorCode; message: string; field?: string } } {
  return { error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } };
}
