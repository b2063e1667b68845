/**
 * Workflow stores for tests: embedded PGlite in memory, or a fresh PostgreSQL database per
 * run (dropped at the end).
 */
import pg from 'pg';
import { openWorkflowStore, type SqlWorkflowStore } from '../../../src/adapters/store-sql/workflow-store.js';
import { newRunId } from '../../helpers/docker.js';

export const PG_ADMIN = process.env.BOSUN_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const BACKENDS = ['pglite', 'postgres'] as const;
export type Backend = (typeof BACKENDS)[number];

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_ADMIN });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A location for `openWorkflowStore` and a function that removes what it made. */
export async function storeLocation(backend: Backend): Promise<{ url: string; drop: () => Promise<void> }> {
  if (backend === 'pglite') return { url: 'memory:', drop: async () => undefined };
  const db = `bosun_wf_${newRunId()}`;
  await admin((c) => c.query(`CREATE DATABASE ${db}`));
  return { url: PG_ADMIN.replace(/\/[^/]*$/, `/${db}`), drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)).then(() => undefined) };
}

export async function openTestStore(backend: Backend): Promise<{ store: SqlWorkflowStore; url: string; close: () => Promise<void> }> {
  const loc = await storeLocation(backend);
  const store = await openWorkflowStore(loc.url);
  return { store, url: loc.url, close: async () => { await store.close(); await loc.drop(); } };
}
