import { BosunError, type ErrorCode } from '../../domain/errors.js';

interface DockerodeError {
  statusCode?: number;
  code?: string;
  json?: { message?: string } | null;
  message?: string;
  reason?: string;
}

function asDockerodeError(e: unknown): DockerodeError {
  return typeof e === 'object' && e !== null ? (e as DockerodeError) : { message: String(e) };
}

export function statusOf(e: unknown): number | undefined {
  return asDockerodeError(e).statusCode;
}

export function messageOf(e: unknown): string {
  const d = asDockerodeError(e);
  return (d.json?.message ?? d.message ?? d.reason ?? 'unknown engine error').trim();
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'EACCES', 'ETIMEDOUT', 'EHOSTUNREACH']);

/** Maps a dockerode failure to a BosunError with a code callers can act on. */
export function engineError(e: unknown, what: string, notFound: ErrorCode = 'not_found'): BosunError {
  if (e instanceof BosunError) return e;
  const d = asDockerodeError(e);
  const msg = messageOf(e);
  let code: ErrorCode = 'engine_error';
  if (d.code && CONNECTION_CODES.has(d.code)) code = 'engine_unavailable';
  else if (d.statusCode === 404) code = notFound;
  else if (d.statusCode === 409) code = 'conflict';
  else if (d.statusCode === 400) code = 'invalid_message';
  return new BosunError(code, `${what}: ${msg}`, { cause: e });
}
