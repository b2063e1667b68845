/**
 * Host paths a container may bind and files the agent may read for a message.
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
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, normalize, sep } from 'node:path';
import { BosunError } from '../errors.js';
import type { Policy } from './schema.js';

/** True when `path` equals `root` or lies below it. Both must be absolute. */
export function isWithin(path: string, root: string): boolean {
  const p = normalize(path);
  const r = normalize(root).replace(/\/+$/, '') || '/';
  return p === r || p.startsWith(r === '/' ? '/' : r + sep);
}

function deny(field: string, message: string): never {
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

/** The real path where it exists (symlinks resolved), else the normalised path as given. */
export function realOrNormal(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return normalize(path);
  }
}

/** A file the agent reads for a message: its real path must lie below the build roots. */
export function enforceReadPath(policy: Policy, path: string, field: string): string {
  if (!isAbsolute(path)) deny(field, `${field}: host path "${path}" must be absolute`);
  const real = realOrNormal(path);
  enforceHostPath(policy, normalize(path), policy.build_roots, field);
  enforceHostPath(policy, real, policy.build_roots, field);
  return real;
}

/**
 * Reads a file for a message without a check-then-use window: the file is opened first, and
 * the path the kernel opened (/proc/self/fd) is what is checked, so swapping a component for
 * a symlink after the check changes nothing. Non-blocking open: a planted FIFO cannot hang the agent.
 */
export function readFileWithin(policy: Policy, path: string, field: string): string {
  enforceReadPath(policy, path, field);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new BosunError('not_found', `${field}: cannot read ${path}: ${(e as Error).message}`, { field, retryable: false });
  }
  try {
    enforceHostPath(policy, readlinkSync(`/proc/self/fd/${fd}`), policy.build_roots, field);
    if (!fstatSync(fd).isFile()) deny(field, `${field}: ${path} is not a regular file`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

const trimmed = (p: string) => normalize(p).replace(/\/+$/, '') || '/';

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

/** Refuses a root that someone other than root (or the agent's uid) could change. */
function enforceTrustedRoot(root: string, field: string): void {
  const uid = process.getuid?.() ?? 0;
  const chain = (p: string): string[] => (p === '/' ? ['/'] : [...chain(dirname(p)), p]);
  let real: string;
  try {
    real = realpathSync(root);
  } catch {
    deny(field, `${field}: bind root ${root} does not exist (the agent creates ${root} when it runs as root)`);
  }
  for (const dir of new Set([...chain(trimmed(root)), ...chain(real)])) {
    const st = statSync(dir);
    if ((st.uid !== 0 && st.uid !== uid) || (st.mode & 0o022) !== 0) {
      deny(field, `${field}: bind root ${root} is not safe: ${dir} is writable by others or not owned by root (mode ${(st.mode & 0o7777).toString(8)}, uid ${st.uid})`);
    }
  }
}

/** On-disk part of the bind rule: the source exists, is no symlink, and its root is trusted. */
export function enforceBindSourceOnDisk(policy: Policy, source: string, field: string): void {
  const p = trimmed(source);
  const root = policy.bind_roots.find((r) => dirname(p) === trimmed(r))!;
  enforceTrustedRoot(root, field);
  let st;
  try {
    st = lstatSync(p);
  } catch {
    throw new BosunError('not_found', `${field}: host path "${source}" does not exist`, { field, retryable: false });
  }
  if (st.isSymbolicLink()) deny(field, `${field}: host path "${source}" is a symlink; bind sources must be real paths (symlinks are refused, not followed)`);
}

/** The whole bind rule for one source. */
export function enforceBindSource(policy: Policy, source: string, field: string): void {
  enforceBindSourceShape(policy, source, field);
  enforceBindSourceOnDisk(policy, source, field);
}
