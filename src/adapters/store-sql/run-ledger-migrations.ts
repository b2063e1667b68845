/**
 * The run ledger's schema, identical for PGlite and PostgreSQL. Never edit an applied one:
 * append. Own version table and lock, so it can share a database with the other stores.
 */
import { runMigrations } from './run-migrations.js';
import type { SqlDb } from './db.js';

export const RUN_LEDGER_MIGRATIONS: readonly string[] = [
  `CREATE TABLE run_ledger (
     channel text NOT NULL,
     publisher text NOT NULL,
     request_id text NOT NULL,
     status text NOT NULL,
     holder text,
     lease_until double precision,
     fence bigint NOT NULL,
     attempt integer NOT NULL,
     replies json,
     confirmed boolean NOT NULL DEFAULT false,
     created_at double precision NOT NULL,
     updated_at double precision NOT NULL,
     PRIMARY KEY (channel, publisher, request_id)
   );
   CREATE INDEX run_ledger_done ON run_ledger (updated_at) WHERE status = 'done';`,
];

const MIGRATION_LOCK = 7_300_420;

export function migrateRunLedger(db: SqlDb): Promise<number> {
  return runMigrations(db, { table: 'run_ledger_schema_migrations', lock: MIGRATION_LOCK, migrations: RUN_LEDGER_MIGRATIONS });
}
