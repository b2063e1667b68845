/**
 * Schema migrations, in order, identical for PGlite and PostgreSQL. Never edit an applied
 * one: append. Applied under an advisory lock so concurrent servers migrate once.
 */
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

export async function migrate(db: SqlDb): Promise<number> {
  return db.tx(async (q) => {
    await q.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await q.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const done = new Set((await q.query<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => Number(r.version)));
    let applied = 0;
    for (const [i, sql] of MIGRATIONS.entries()) {
      const version = i + 1;
      if (done.has(version)) continue;
      for (const stmt of sql.split(/;\s*\n/).map((s) => s.trim()).filter(Boolean)) await q.query(stmt);
      await q.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
      applied++;
    }
    return applied;
  });
}
