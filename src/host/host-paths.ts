/**
 * The on-disk half of the host-path rules (src/domain/policy/host-paths.ts has the lexical
 * half): real paths, symlinks, trusted roots, and reading a file for a message without a
 * check-then-use window.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, normalize } from 'node:path';
import { BosunError } from '../domain/errors.js';
import { deny, enforceBindSourceShape, enforceHostPath, trimmed } from '../domain/policy/host-paths.js';
import type { Policy } from '../domain/policy/schema.js';

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
