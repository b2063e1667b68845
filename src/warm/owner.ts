/** The name pool containers are labelled with, so an agent adopts or removes only its own. */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';

/**
 * Stays the same across restarts of one agent (same host, same state dir) and differs between two
 * agents on one engine. The same rule as the workflow owner name, kept here so warm needs no workflow code.
 */
export function poolOwnerName(stateDir: string): string {
  return `${hostname()}:${createHash('sha256').update(resolve(stateDir)).digest('hex').slice(0, 12)}`;
}
