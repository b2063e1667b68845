/**
 * Host paths a container may bind and files the agent may read for a message — the lexical
 * rules (pure). What must be looked up on disk is in src/host/host-paths.ts.
 *
 * Binds (the model, see NOTES-sec-host.md): Docker resolves a bind source again at every
 * (re)start, daemon-driven restarts included, so a check at create time only holds for a
 * path no container can change. Hence a bind source must be
 *  - exactly one path component below a bind root (`/srv/bosun/<name>`), never a root itself
 *    nor an ancestor of one, so its only ancestor a container could write is none: the root
 *    is never bindable and the levels above it are the host's;
 *  - a real entry, not a symlink (refused, never resolved);
 *  - below a root that is trusted: the root and every directory above it is owned by root
 *    (or the agent's uid) and writable by nobody else.
 * Files read for a message (stack file, .env, env_file, build context) are compared by their
 * real path against the build roots.
 */
import { dirname, isAbsolute, normalize, sep } from 'node:path';
import { BosunError } from '../errors.js';
import type { Policy } from './schema.js';

/** True when `path` equals `root` or lies below it. Both must be absolute. */
export function isWithin(path: string, root: string): boolean {
  const p = normalize(path);
  const r = normalize(root).replace(/\/+$/, '') || '/';
  return p === r || p.startsWith(r === '/' ? '/' : r + sep);
}

export function deny(field: string, message: string): never {
  throw new BosunError('policy_denied', message, { field, retryable: false });
}

/** Lexical: absolute, not touching a forbidden path, below one of `roots`. */
export function enforceHostPath(policy: Policy, hostPath: string, roots: string[], field: string): void {
  if (!isAbsolute(hostPath)) deny(field, `${field}: host path "${hostPath}" must be absolute`);
  const forbidden = policy.forbidden_paths.find((f) => isWithin(hostPath, f) || isWithin(f, hostPath));
  if (forbidden) deny(field, `${field}: host path "${hostPath}" touches forbidden path ${forbidden}`);
  if (!roots.some((r) => isWithin(hostPath, r))) {
    deny(field, `${field}: host path "${hostPath}" is outside the allowed roots (${roots.join(', ') || 'none'}); see the policy file`);
  }
}

export const trimmed = (p: string) => normalize(p).replace(/\/+$/, '') || '/';

/** Lexical part of the bind rule: one component below a root, not a root or a root's ancestor. */
export function enforceBindSourceShape(policy: Policy, source: string, field: string): string {
  enforceHostPath(policy, source, policy.bind_roots, field);
  const p = trimmed(source);
  const isRootOrAbove = policy.bind_roots.some((r) => isWithin(r, p));
  if (isRootOrAbove) deny(field, `${field}: "${source}" is a bind root (or above one); bind a directory inside it, e.g. ${trimmed(policy.bind_roots[0] ?? '/srv/bosun')}/<name>`);
  if (!policy.bind_roots.some((r) => dirname(p) === trimmed(r))) {
    deny(field, `${field}: "${source}" must lie directly in a bind root (${policy.bind_roots.join(', ')}), as <root>/<name>: deeper paths have ancestors a container could swap for a symlink`);
  }
  return p;
}

