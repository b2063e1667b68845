/** Per-test directories directly below the default bind root /srv/bosun (the only place the default policy binds from). */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_BOSUN_ROOT } from '../../src/domain/policy/schema.js';

/** Creates `/srv/bosun/test-<prefix>-<random>` (and /srv/bosun, root-owned 0755, when missing). */
export function bosunTestDir(prefix: string): string {
  if (!existsSync(DEFAULT_BOSUN_ROOT)) {
    mkdirSync(DEFAULT_BOSUN_ROOT, { recursive: true, mode: 0o755 });
    chmodSync(DEFAULT_BOSUN_ROOT, 0o755);
  }
  const dir = join(DEFAULT_BOSUN_ROOT, `test-${prefix}-${randomBytes(5).toString('hex')}`);
  mkdirSync(dir, { mode: 0o755 });
  return dir;
}

export function removeBosunTestDir(dir: string): void {
  if (dir.startsWith(`${DEFAULT_BOSUN_ROOT}/test-`)) rmSync(dir, { recursive: true, force: true });
}
