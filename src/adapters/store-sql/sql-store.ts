/**
 * ClusterStore over SQL: the same statements for embedded PGlite and PostgreSQL.
 * Batches go through jsonb_to_recordset so one plan is a handful of statements.
 */
import { BosunError } from '../../domain/errors.js';
import type { StateUpdate } from '../../domain/cluster.js';
import type { NodeStatus, Placement, Plan, Replica, ReplicaState } from '../../domain/cluster.js';
import type { ClusterStore, HeartbeatInput, Lease, NodeRecord, ServiceInput, ServiceRecord, ServiceStatus } from '../../ports/store.js';
import { openDb, type Row, type SqlDb } from './db.js';
import { migrate } from './migrations.js';

export async function openClusterStore(location: string): Promise<SqlClusterStore> {
  const store = new SqlClusterStore(await openDb(location));
  await store.migrate();
  return store;
}

const num = (v: unknown): number => Number(v);

function serviceOf(r: Row): ServiceRecord {
  return {
    name: String(r.name), replicas: num(r.replicas), container: r.container as ServiceRecord['container'],
    constraints: r.constraints as ServiceRecord['constraints'], version: num(r.version), deleted: Boolean(r.deleted),
    createdAt: num(r.created_at), updatedAt: num(r.updated_at), status: (r.status ?? {}) as ServiceStatus,
  };
}

/** "why was replica X put on node Y": kept on the assignment until the node reports. */
export function placementReason(p: Placement): string {
  const refused = Object.entries(p.why.refused).map(([why, n]) => `${n} ${why}`).join(', ');
  return `placed on ${p.node}: ${p.why.feasible} feasible node(s)${refused ? `, refused ${refused}` : ''}; spread score [${p.why.score.join(', ')}]`;
}

function replicaOf(r: Row): Replica {
  const out: Replica = {
    service: String(r.service), slot: num(r.slot), generation: num(r.generation), node: String(r.node), specVersion: num(r.spec_version),
    desired: r.desired === 'run' ? 'run' : 'stop', state: String(r.state) as ReplicaState, attempt: num(r.attempt),
    notBefore: num(r.not_before), updatedAt: num(r.updated_at),
  };
  if (r.reason !== null && r.reason !== undefined) out.reason = String(r.reason);
  if (r.started_at !== null && r.started_at !== undefined) out.startedAt = num(r.started_at);
  return out;
}

/** Stable JSON (sorted keys) so a template change is detected regardless of key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

export class SqlClusterStore implements ClusterStore {
  readonly kind: 'pglite' | 'postgres';

  constructor(private readonly db: SqlDb) {
    this.kind = db.kind;
  }

  async migrate(): Promise<void> {
    await migrate(this.db);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  putService(input: ServiceInput, now: number): Promise<{ record: ServiceRecord; created: boolean }> {
    return this.db.tx(async (q) => {
      const [old] = await q.query('SELECT * FROM services WHERE name = $1 FOR UPDATE', [input.name]);
      const constraints = input.constraints ?? [];
      if (!old || old.deleted) {
        // A re-created service continues the old version numbers, so rolling updates still apply.
        const version = old ? num(old.version) + 1 : 1;
        const [row] = await q.query(
          `INSERT INTO services (name, replicas, container, constraints, version, deleted, created_at, updated_at)
           VALUES ($1, $2, $3::jsonb, $4::jsonb, $5, false, $6, $6)
           ON CONFLICT (name) DO UPDATE SET replicas = EXCLUDED.replicas, container = EXCLUDED.container, constraints = EXCLUDED.constraints,
             version = EXCLUDED.version, deleted = false, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at
           RETURNING *`,
          [input.name, input.replicas, JSON.stringify(input.container), JSON.stringify(constraints), version, now],
        );
        return { record: serviceOf(row as Row), created: true };
      }
      const prev = serviceOf(old);
      const changed = canonical(prev.container) !== canonical(input.container);
      const [row] = await q.query(
        `UPDATE services SET replicas = $2, container = $3::jsonb, constraints = $4::jsonb, version = $5, updated_at = $6 WHERE name = $1 RETURNING *`,
        [input.name, input.replicas, JSON.stringify(input.container), JSON.stringify(constraints), changed ? prev.version + 1 : prev.version, now],
      );
      return { record: serviceOf(row as Row), created: false };
    });
  }

  async getService(name: string): Promise<ServiceRecord | undefined> {
    const [row] = await this.db.query('SELECT * FROM services WHERE name = $1', [name]);
    return row ? serviceOf(row) : undefined;
  }

  async listServices(): Promise<ServiceRecord[]> {
    return (await this.db.query('SELECT * FROM services ORDER BY name')).map(serviceOf);
  }

  async deleteService(name: string, now: number): Promise<boolean> {
    const rows = await this.db.query('UPDATE services SET deleted = true, updated_at = $2 WHERE name = $1 AND NOT deleted RETURNING name', [name, now]);
    return rows.length > 0;
  }

  async recordHeartbeat(hb: HeartbeatInput): Promise<void> {
    await this.db.query(
      `INSERT INTO nodes (name, labels, free_cpu, free_mem_mb, free_disk_mb, status, last_heartbeat, registered_at)
       VALUES ($1, $2::jsonb, $3, $4, $5, 'ready', $6, $6)
       ON CONFLICT (name) DO UPDATE SET labels = EXCLUDED.labels, free_cpu = EXCLUDED.free_cpu, free_mem_mb = EXCLUDED.free_mem_mb,
         free_disk_mb = EXCLUDED.free_disk_mb, last_heartbeat = GREATEST(nodes.last_heartbeat, EXCLUDED.last_heartbeat)`,
      [hb.name, JSON.stringify(hb.labels), hb.free.cpu, hb.free.memMb, hb.free.diskMb, hb.at],
    );
  }

  async listNodes(): Promise<NodeRecord[]> {
    const rows = await this.db.query('SELECT * FROM nodes ORDER BY name');
    return rows.map((r) => ({
      name: String(r.name), labels: r.labels as Record<string, string>, status: r.status === 'draining' ? 'draining' : 'ready',
      free: { cpu: num(r.free_cpu), memMb: num(r.free_mem_mb), diskMb: num(r.free_disk_mb) },
      lastHeartbeat: num(r.last_heartbeat), registeredAt: num(r.registered_at),
    }));
  }

  async setNodeStatus(name: string, status: NodeStatus): Promise<boolean> {
    return (await this.db.query('UPDATE nodes SET status = $2 WHERE name = $1 RETURNING name', [name, status])).length > 0;
  }

  async listReplicas(service?: string): Promise<Replica[]> {
    const rows = service === undefined
      ? await this.db.query('SELECT * FROM replicas ORDER BY service, slot, generation')
      : await this.db.query('SELECT * FROM replicas WHERE service = $1 ORDER BY slot, generation', [service]);
    return rows.map(replicaOf);
  }

  async listReplicasForReport(node: string, services: readonly string[]): Promise<Replica[]> {
    const rows = await this.db.query('SELECT * FROM replicas WHERE node = $1 OR service = ANY($2::text[]) ORDER BY service, slot, generation', [node, [...new Set(services)]]);
    return rows.map(replicaOf);
  }

  async pruneHistory(before: number): Promise<number> {
    const rows = await this.db.query(
      `DELETE FROM replicas r WHERE r.desired = 'stop' AND r.updated_at < $1
         AND r.generation < (SELECT max(g.generation) FROM replicas g WHERE g.service = r.service AND g.slot = r.slot)
       RETURNING 1`,
      [before],
    );
    return rows.length;
  }

  applyPlan(plan: Plan, now: number, lease: { holder: string; epoch: number }): Promise<void> {
    return this.db.tx(async (q) => {
      const held = await q.query('SELECT 1 FROM leases WHERE name = $1 AND holder = $2 AND epoch = $3 AND expires_at > clock_timestamp() FOR SHARE', ['controller', lease.holder, lease.epoch]);
      if (held.length === 0) throw new BosunError('store_error', `plan refused: ${lease.holder} no longer holds the controller lease (epoch ${lease.epoch})`, { retryable: false });
      if (plan.stop.length > 0) {
        await q.query(
          `UPDATE replicas r SET desired = 'stop',
             state = CASE WHEN x.mark_as = 'stopping' AND r.state = 'failed' THEN 'failed' ELSE x.mark_as END,
             reason = x.reason, updated_at = $2
           FROM jsonb_to_recordset($1::jsonb) AS x(service text, slot int, generation int, mark_as text, reason text)
           WHERE r.service = x.service AND r.slot = x.slot AND r.generation = x.generation`,
          [JSON.stringify(plan.stop.map((s) => ({ service: s.service, slot: s.slot, generation: s.generation, mark_as: s.markAs, reason: s.reason }))), now],
        );
      }
      if (plan.place.length > 0) {
        await q.query(
          `INSERT INTO replicas (service, slot, generation, node, spec_version, desired, state, reason, attempt, not_before, updated_at)
           SELECT x.service, x.slot, x.generation, x.node, x.spec_version, 'run', 'pending', x.reason, x.attempt, 0, $2
           FROM jsonb_to_recordset($1::jsonb) AS x(service text, slot int, generation int, node text, spec_version int, attempt int, reason text)`,
          [JSON.stringify(plan.place.map((p) => ({ service: p.service, slot: p.slot, generation: p.generation, node: p.node, spec_version: p.specVersion, attempt: p.attempt, reason: placementReason(p) }))), now],
        );
      }
      for (const name of plan.purge) {
        await q.query('DELETE FROM replicas WHERE service = $1', [name]);
        await q.query('DELETE FROM services WHERE name = $1 AND deleted', [name]);
      }
    });
  }

  async applyUpdates(updates: readonly StateUpdate[], now: number): Promise<void> {
    if (updates.length === 0) return;
    await this.db.query(
      `UPDATE replicas r SET state = x.state, reason = COALESCE(x.reason, r.reason), updated_at = $2,
         started_at = CASE WHEN x.state = 'running' AND r.state <> 'running' THEN $2 ELSE r.started_at END
       FROM jsonb_to_recordset($1::jsonb) AS x(service text, slot int, generation int, state text, reason text)
       WHERE r.service = x.service AND r.slot = x.slot AND r.generation = x.generation
         AND (r.desired = 'run' OR x.state IN ('stopped', 'failed'))`,
      [JSON.stringify(updates.map((u) => ({ service: u.service, slot: u.slot, generation: u.generation, state: u.state, reason: u.reason ?? null }))), now],
    );
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<Lease> {
    const rows = await this.db.query<{ epoch: string | number }>(
      `INSERT INTO leases (name, holder, epoch, expires_at) VALUES ($1, $2, 1, clock_timestamp() + $3 * interval '1 millisecond')
       ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder,
         epoch = CASE WHEN leases.holder = EXCLUDED.holder AND leases.expires_at > clock_timestamp() THEN leases.epoch ELSE leases.epoch + 1 END,
         expires_at = EXCLUDED.expires_at
       WHERE leases.holder = EXCLUDED.holder OR leases.expires_at < clock_timestamp()
       RETURNING epoch`,
      [name, holder, ttlMs],
    );
    const [row] = rows;
    return row ? { leader: true, epoch: num(row.epoch) } : { leader: false, epoch: 0 };
  }

  async setServiceStatus(name: string, status: ServiceStatus): Promise<void> {
    await this.db.query('UPDATE services SET status = $2::jsonb WHERE name = $1', [name, JSON.stringify(status)]);
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.db.query('UPDATE leases SET expires_at = clock_timestamp() - interval \'1 second\' WHERE name = $1 AND holder = $2', [name, holder]);
  }
}
