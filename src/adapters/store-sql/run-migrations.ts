/**
 * Applies a numbered list of migrations once each, under an advisory lock, recording each
 * version in its own table (every store keeps its own list, so stores can share a database).
 */
import type { SqlDb } from './db.js';

export interface MigrationSet {
  /** Table that records the applied versions. */
  table: string;
  /** pg_advisory_xact_lock key: concurrent starters migrate one after the other. */
  lock: number;
  migrations: readonly string[];
}

export async function runMigrations(db: SqlDb, set: MigrationSet): Promise<number> {
  return db.tx(async (q) => {
    await q.query('SELECT pg_advisory_xact_lock($1)', [set.lock]);
    await q.query(`CREATE TABLE IF NOT EXISTS ${set.table} (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await q.query<{ version: number }>(`SELECT version FROM ${set.table}`)).map((r) => Number(r.version)));
    let applied = 0;
    for (const [i, sql] of set.migrations.entries()) {
      const version = i + 1;
      if (done.has(version)) continue;
      for (const stmt of sql.split(/;\s*\n/).map((s) => s.trim()).filter(Boolean)) await q.query(stmt);
      await q.query(`INSERT INTO ${set.table} (version) VALUES ($1)`, [version]);
      applied++;
    }
    return applied;
  });
}
