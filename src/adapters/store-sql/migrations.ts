/**
 * Schema migrations, in order, identical for PGlite and PostgreSQL. Never edit an applied
 * one: append. Applied under an advisory lock so concurrent servers migrate once.
 */
import { runMigrations } from './run-migrations.js';
import type { SqlDb } from './db.js';

export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE services (
     name text PRIMARY KEY,
     replicas integer NOT NULL CHECK (replicas >= 0),
     container jsonb NOT NULL,
     constraints jsonb NOT NULL DEFAULT '[]',
     version integer NOT NULL DEFAULT 1,
     deleted boolean NOT NULL DEFAULT false,
     created_at double precision NOT NULL,
     updated_at double precision NOT NULL
   );
   CREATE TABLE nodes (
     name text PRIMARY KEY,
     labels jsonb NOT NULL DEFAULT '{}',
     free_cpu double precision NOT NULL,
     free_mem_mb double precision NOT NULL,
     free_disk_mb double precision NOT NULL,
     status text NOT NULL DEFAULT 'ready',
     last_heartbeat double precision NOT NULL,
     registered_at double precision NOT NULL
   );
   CREATE TABLE replicas (
     service text NOT NULL,
     slot integer NOT NULL,
     generation integer NOT NULL,
     node text NOT NULL,
     spec_version integer NOT NULL,
     desired text NOT NULL CHECK (desired IN ('run', 'stop')),
     state text NOT NULL,
     reason text,
     attempt integer NOT NULL DEFAULT 0,
     not_before double precision NOT NULL DEFAULT 0,
     updated_at double precision NOT NULL,
     PRIMARY KEY (service, slot, generation)
   );
   CREATE UNIQUE INDEX replicas_one_live_per_slot ON replicas (service, slot) WHERE desired = 'run';
   CREATE INDEX replicas_by_node ON replicas (node);
   CREATE TABLE leases (
     name text PRIMARY KEY,
     holder text NOT NULL,
     epoch bigint NOT NULL,
     expires_at timestamptz NOT NULL
   );`,
  // Progress the controller reports per service (placed, unplaced and why, backoff).
  `ALTER TABLE services ADD COLUMN status jsonb NOT NULL DEFAULT '{}'`,
  // When a replica was last seen starting to run (backoff resets after a stable run).
  `ALTER TABLE replicas ADD COLUMN started_at double precision`,
];

const MIGRATION_LOCK = 7_300_401;

export function migrate(db: SqlDb): Promise<number> {
  return runMigrations(db, { table: 'schema_migrations', lock: MIGRATION_LOCK, migrations: MIGRATIONS });
}
