/** The cluster's shared key (order and report sealing): from a file, else the environment. */
import { readFileSync, statSync } from 'node:fs';
import { BosunError } from '../domain/errors.js';

const MIN_KEY_BYTES = 32;

export interface KeySource {
  file?: string | undefined;
  env?: string | undefined;
  /** Told when the key file can be read by others than its owner. */
  warn?: (msg: string) => void;
}

export function loadClusterKey(s: KeySource): Buffer | undefined {
  let text: string | undefined;
  if (s.file) {
    try {
      text = readFileSync(s.file, 'utf8');
      if ((statSync(s.file).mode & 0o077) !== 0) s.warn?.(`cluster key file ${s.file} is readable by group or others (chmod 600 it)`);
    } catch (e) {
      throw new BosunError('invalid_message', `cannot read cluster key file ${s.file}: ${(e as Error).message}`, { field: 'cluster-key' });
    }
  } else text = s.env;
  if (text === undefined || text.trim() === '') return undefined;
  const key = Buffer.from(text.trim(), 'utf8');
  if (key.length < MIN_KEY_BYTES) throw new BosunError('invalid_message', `the cluster key must be at least ${MIN_KEY_BYTES} bytes (e.g. openssl rand -hex 32)`, { field: 'cluster-key' });
  return key;
}
