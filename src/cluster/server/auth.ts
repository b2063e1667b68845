/**
 * Who may use a `bosun server`: the bearer token on the API (compared in constant time) and the
 * start-up rules — a token is required unless --insecure-no-auth, and without one the API never
 * listens beyond loopback; the cluster key (order sealing) is required unless --insecure-no-auth.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { BosunError } from '../../domain/errors.js';

/** Constant time whatever the lengths: both sides are hashed to 32 bytes first. */
export function bearerMatches(token: string, authorization: string | undefined): boolean {
  const want = createHash('sha256').update(`Bearer ${token}`).digest();
  const got = createHash('sha256').update(authorization ?? '').digest();
  return timingSafeEqual(want, got) && authorization !== undefined;
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export interface ServerAuthConfig {
  host: string;
  token?: string | undefined;
  clusterKey?: Buffer | undefined;
  insecureNoAuth?: boolean | undefined;
}

/** Throws policy_denied naming the missing setting when the server must not start this way. */
export function assertServerAuth(c: ServerAuthConfig): void {
  if (c.token !== undefined && c.token.length < 16) throw new BosunError('policy_denied', 'the API token must be at least 16 characters', { field: 'token' });
  if (!c.token && !isLoopback(c.host)) {
    throw new BosunError('policy_denied', `refusing to serve the API on ${c.host} without a token: set --token / --token-file / BOSUN_TOKEN, or listen on 127.0.0.1`, { field: 'token' });
  }
  if (!c.token && !c.insecureNoAuth) {
    throw new BosunError('policy_denied', 'the API needs a token (--token, --token-file or BOSUN_TOKEN); --insecure-no-auth runs without one, on loopback only', { field: 'token' });
  }
  if (!c.clusterKey && !c.insecureNoAuth) {
    throw new BosunError('policy_denied', 'orders to nodes must be signed: give the cluster key (--cluster-key FILE or BOSUN_CLUSTER_KEY), or --insecure-no-auth', { field: 'cluster-key' });
  }
}
