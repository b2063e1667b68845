/**
 * Host setup the agent does once at start: the bosun root (where binds and builds live)
 * and the state dir. See NOTES / README "Policy" for the model.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { BosunError } from '../domain/errors.js';
import { isWithin, type Policy } from '../domain/policy.js';
import { DEFAULT_BOSUN_ROOT } from '../domain/policy/schema.js';
import type { Logger } from '../util/log.js';

/** Mount options of the mount point exactly at `path`, if it is one (from /proc/self/mountinfo). */
export function mountOptionsAt(path: string): string[] | undefined {
  const esc = (p: string) => p.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  const lines = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === esc(path));
  const last = lines.at(-1);
  return last ? (last.split(' ')[5] ?? '').split(',') : undefined;
}

/**
 * Creates the default bosun root root-owned 0755 when the agent runs as root, and makes every
 * bind root a nosuid,nodev bind mount of itself, so a setuid binary or device node a container
 * plants there is inert on the host (Docker's bind API has no nosuid flag; binds below inherit it).
 */
export function prepareBindRoots(policy: Policy, log: Logger): void {
  const isRoot = process.getuid?.() === 0;
  if (isRoot && policy.bind_roots.includes(DEFAULT_BOSUN_ROOT) && !existsSync(DEFAULT_BOSUN_ROOT)) {
    mkdirSync(DEFAULT_BOSUN_ROOT, { recursive: true, mode: 0o755 });
    chmodSync(DEFAULT_BOSUN_ROOT, 0o755);
  }
  for (const root of policy.bind_roots) {
    if (!existsSync(root)) continue;
    const real = realpathSync(root);
    const opts = mountOptionsAt(real);
    if (opts?.includes('nosuid') && opts.includes('nodev')) continue;
    if (!isRoot) {
      log.warn({ root }, 'bind root is not a nosuid,nodev mount and the agent is not root: setuid files planted there by a container stay setuid on the host');
      continue;
    }
    try {
      if (!opts) execFileSync('mount', ['--bind', real, real], { stdio: 'pipe' });
      execFileSync('mount', ['-o', 'remount,bind,nosuid,nodev', real, real], { stdio: 'pipe' });
      log.info({ root: real }, 'bind root mounted nosuid,nodev');
    } catch (e) {
      log.warn({ root: real, err: (e as Error).message }, 'could not make the bind root nosuid,nodev');
    }
  }
}

/**
 * The state dir: created 0700; refused when it is a symlink, not owned by the agent's uid,
 * writable by others, or below a bind root (a container could write it).
 */
export function prepareStateDir(dir: string, policy: Policy): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const uid = process.getuid?.() ?? st.uid;
  const refuse = (why: string): never => {
    throw new BosunError('invalid_message', `state dir ${dir} ${why}`, { field: 'state_dir', retryable: false });
  };
  if (st.isSymbolicLink() || !st.isDirectory()) refuse('must be a real directory, not a symlink');
  if (st.uid !== uid) refuse(`is owned by uid ${st.uid}, not the agent's (${uid})`);
  if ((st.mode & 0o022) !== 0) refuse(`is writable by others (mode ${(st.mode & 0o777).toString(8)}); use a 0700 directory`);
  const real = realpathSync(dir);
  const root = policy.bind_roots.find((r) => isWithin(real, r) || isWithin(real, existsSync(r) ? realpathSync(r) : r));
  if (root) refuse(`lies below the bind root ${root}, which containers can write`);
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}
