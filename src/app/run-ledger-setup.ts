/**
 * The agent's run ledger: PostgreSQL with `--store postgres://…` (shared by every agent on it),
 * embedded PGlite in the state dir with `--ledger on` (this agent alone), or none.
 * `auto` (the default) opens it only on a shared store: an embedded ledger guards nothing that
 * container labels do not already guard on one host, and a fresh PGlite costs every agent start
 * seconds (31 s measured at load 37 on the 2-core test machine).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isPostgresUrl } from '../adapters/store-sql/db.js';
import { openRunLedger } from '../adapters/store-sql/run-ledger.js';
import type { LedgerDeps } from '../pipeline/ledger.js';
import { DEFAULT_LEASE_MS } from '../pipeline/ledger.js';
import type { Logger } from '../util/log.js';

/** Finished runs are forgotten after this long (a copy of the request sent later runs again). */
export const LEDGER_RETENTION_MS = 24 * 3600_000;
const PRUNE_EVERY_MS = 3600_000;

export interface LedgerOptions {
  /** postgres://… or a PGlite directory; default `<state dir>/ledger`. */
  storeUrl?: string;
  stateDir: string;
  /** Default auto: on with a postgres:// store, off otherwise. */
  mode?: LedgerMode;
  leaseMs?: number;
  /** The agent's name (`--name`), default the hostname; the holder is `<name>-<pid>-<random>`: unique per process, so a restarted agent does not take its old leases for its own. */
  agentName?: string;
  log: Logger;
}

export interface AgentLedger {
  deps: LedgerDeps;
  close(): Promise<void>;
}

export type LedgerMode = 'auto' | 'on' | 'off';

export async function openAgentLedger(o: LedgerOptions): Promise<AgentLedger | undefined> {
  const mode = o.mode ?? 'auto';
  if (mode === 'off' || (mode === 'auto' && !(o.storeUrl !== undefined && isPostgresUrl(o.storeUrl)))) return undefined;
  // A PGlite directory given as --store is the workflow store's: one process cannot open it twice.
  const location = o.storeUrl !== undefined && isPostgresUrl(o.storeUrl) ? o.storeUrl : join(o.stateDir, 'ledger');
  const ledger = await openRunLedger(location);
  const owner = `${o.agentName ?? hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const leaseMs = o.leaseMs ?? DEFAULT_LEASE_MS;
  o.log.info({ store: ledger.kind, owner, leaseMs }, 'run ledger open');
  const prune = (): void => {
    ledger.prune(LEDGER_RETENTION_MS).catch((e: unknown) => o.log.warn({ err: (e as Error).message }, 'run ledger prune failed'));
  };
  prune();
  const timer = setInterval(prune, PRUNE_EVERY_MS);
  timer.unref();
  return {
    deps: { ledger, owner, leaseMs },
    async close() {
      clearInterval(timer);
      await ledger.close();
    },
  };
}
