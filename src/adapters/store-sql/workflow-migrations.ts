/**
 * The workflow store's schema: every migration of the wf_* tables, in order, identical for
 * PGlite and PostgreSQL. Never edit an applied one: append. Kept apart from the cluster's
 * migrations (own version table and lock) so both stores can share one database.
 *
 * Payloads are `json`, not `jsonb`: jsonb reorders object keys, and the interpreter's row
 * (frames, tokens) must come back exactly as written for replay to decide the same way.
 */
import { runMigrations } from './run-migrations.js';
import type { SqlDb } from './db.js';

export const WORKFLOW_MIGRATIONS: readonly string[] = [
  `CREATE TABLE wf_definitions (
     name text NOT NULL,
     version integer NOT NULL,
     definition json NOT NULL,
     created_at double precision NOT NULL,
     PRIMARY KEY (name, version)
   );
   CREATE TABLE wf_executions (
     id text PRIMARY KEY,
     definition_name text,
     definition_version integer,
     status text NOT NULL,
     state json,
     reply_to json,
     lease_owner text,
     lease_until double precision,
     fence bigint NOT NULL DEFAULT 0,
     created_at double precision NOT NULL,
     updated_at double precision NOT NULL
   );
   CREATE INDEX wf_executions_running ON wf_executions (created_at) WHERE status = 'RUNNING';
   CREATE TABLE wf_history (
     execution_id text NOT NULL,
     seq integer NOT NULL,
     type text NOT NULL,
     state text,
     input json,
     output json,
     at double precision NOT NULL,
     event json NOT NULL,
     PRIMARY KEY (execution_id, seq)
   );
   CREATE TABLE wf_timers (
     execution_id text NOT NULL,
     token text NOT NULL,
     kind text NOT NULL,
     due_at double precision NOT NULL,
     PRIMARY KEY (execution_id, token)
   );
   CREATE INDEX wf_timers_due ON wf_timers (due_at);
   CREATE TABLE wf_tasks (
     execution_id text NOT NULL,
     token text NOT NULL,
     command json NOT NULL,
     status text NOT NULL,
     scheduled_at double precision NOT NULL,
     PRIMARY KEY (execution_id, token)
   );
   CREATE TABLE wf_inbox (
     id bigserial PRIMARY KEY,
     execution_id text NOT NULL,
     event json NOT NULL,
     dedupe_key text,
     posted_at double precision NOT NULL,
     consumed_at double precision
   );
   CREATE UNIQUE INDEX wf_inbox_dedupe ON wf_inbox (execution_id, dedupe_key) WHERE dedupe_key IS NOT NULL;
   CREATE INDEX wf_inbox_open ON wf_inbox (execution_id, id) WHERE consumed_at IS NULL;`,
  // wf-control: redrive count; paused executions are claimed only for a waiting Cancel/Resume.
  `ALTER TABLE wf_executions ADD COLUMN redrive_count integer NOT NULL DEFAULT 0;
   CREATE INDEX wf_executions_paused ON wf_executions (created_at) WHERE status = 'PAUSED';`,
  // The end reply (workflow.start's response_channel): claimed by one agent at a time, and
  // marked sent for the fence the execution ended under (a redriven execution ends again, under
  // a newer fence, and is owed a reply again).
  `ALTER TABLE wf_executions ADD COLUMN reply_claim_until double precision;
   ALTER TABLE wf_executions ADD COLUMN reply_sent_fence bigint;
   CREATE INDEX wf_executions_reply_owed ON wf_executions (updated_at) WHERE reply_to IS NOT NULL AND status IN ('SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED');`,
  // wf-tenancy: an execution records who started it (the publisher's user id; NULL when the
  // policy names no users), and definitions are owned: each publisher has its own namespace of
  // names, each with its own versions ('' is the owner when the policy names no users).
  // start_key: a digest of (definition, input) so a repeated execution_name with a different
  // start is refused instead of silently returning the first.
  `ALTER TABLE wf_executions ADD COLUMN starter text;
   ALTER TABLE wf_executions ADD COLUMN start_key text;
   CREATE INDEX wf_executions_starter ON wf_executions (starter, created_at);
   ALTER TABLE wf_definitions ADD COLUMN owner text NOT NULL DEFAULT '';
   ALTER TABLE wf_definitions DROP CONSTRAINT wf_definitions_pkey;
   ALTER TABLE wf_definitions ADD PRIMARY KEY (owner, name, version);`,
];

const MIGRATION_LOCK = 7_300_410;

export function migrateWorkflowStore(db: SqlDb): Promise<number> {
  return runMigrations(db, { table: 'wf_schema_migrations', lock: MIGRATION_LOCK, migrations: WORKFLOW_MIGRATIONS });
}
