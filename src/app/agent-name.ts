/** The name of an agent that stays the same across its restarts (same host, same state dir) and differs between two agents on one host. */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';

export function stableAgentName(stateDir: string): string {
  return `${hostname()}:${createHash('sha256').update(resolve(stateDir)).digest('hex').slice(0, 12)}`;
}
