/**
 * Multi-engine cluster harness: K extra Docker engines, one `bosun node` per engine,
 * one or more `bosun server`s on a fresh PostgreSQL database, all on the real broker.
 * Every process is started here and stopped by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import { nodeQueue } from '../../../src/cluster/protocol.js';
import { LABEL } from '../../../src/domain/labels.js';
import { startEngine, type ExtraEngine } from '../../helpers/engines.js';
import { eventually } from '../../helpers/docker.js';

export const BROKER = process.env.BOSUN_TEST_AMQP ?? 'amqp://guest:guest@127.0.0.1:5672';
const PG_ADMIN = process.env.BOSUN_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CLI = join(import.meta.dirname, '../../../src/app/cli.ts');

export interface Proc {
  name: string;
  proc: ChildProcess;
  exited: Promise<void>;
}

export function spawnBosun(dir: string, name: string, args: string[]): Proc {
  const log = openSync(join(dir, `${name}.log`), 'a');
  const proc = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', log, log], env: { ...process.env, BOSUN_LOG_LEVEL: 'info' } });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return { name, proc, exited };
}

export async function killProc(p: Proc | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!p || p.proc.exitCode !== null || p.proc.signalCode !== null) return;
  p.proc.kill(signal);
  const t = setTimeout(() => p.proc.kill('SIGKILL'), 10_000);
  await p.exited;
  clearTimeout(t);
}

export async function freshDatabase(runId: string): Promise<{ url: string; drop(): Promise<void> }> {
  const db = `bosun_cluster_${runId}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  await admin.end();
  return {
    url: PG_ADMIN.replace(/\/[^/]*$/, `/${db}`),
    async drop() {
      const a = new pg.Client({ connectionString: PG_ADMIN });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await a.end();
    },
  };
}

export interface ClusterNode {
  name: string;
  engine: ExtraEngine;
  agent?: Proc;
}

/** Writes a fresh cluster key file (mode 600) under `dir`; returns its path. */
export function writeClusterKey(dir: string): string {
  const file = join(dir, 'cluster.key');
  writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
  return file;
}

export class Cluster {
  readonly nodes: ClusterNode[] = [];
  readonly servers = new Map<string, { proc: Proc; url: string }>();
  /** The API token and cluster key every server and node of this cluster is started with. */
  readonly token = randomBytes(24).toString('hex');
  readonly keyFile: string;

  constructor(readonly dir: string, readonly runId: string, readonly storeUrl: string) {
    this.keyFile = writeClusterKey(dir);
  }

  async addNode(short: string, index: number): Promise<ClusterNode> {
    const engine = await startEngine(this.dir, short, index);
    const n: ClusterNode = { name: `${this.runId}-${short}`, engine };
    this.nodes.push(n);
    this.startAgent(n);
    return n;
  }

  startAgent(n: ClusterNode): void {
    n.agent = spawnBosun(this.dir, n.name, ['node', '--name', n.name, '--broker', BROKER, '--docker-host', n.engine.host, '--heartbeat-ms', '300', '--cluster-key', this.keyFile, '--label', `zone=${n.name.slice(-2)}`]);
  }

  startServer(name: string, port: number): string {
    const url = `http://127.0.0.1:${port}`;
    const proc = spawnBosun(this.dir, name, [
      'server', '--http', `127.0.0.1:${port}`, '--store', this.storeUrl, '--broker', BROKER, '--name', `${this.runId}-${name}`,
      '--token', this.token, '--cluster-key', this.keyFile, '--heartbeat-grace-ms', '1500', '--tick-ms', '200', '--lease-ttl-ms', '2000', '--backoff-base-ms', '500',
    ]);
    this.servers.set(name, { proc, url });
    return url;
  }

  async api<T = unknown>(server: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
    const s = this.servers.get(server);
    if (!s) throw new Error(`no server ${server}`);
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) };
    // Bounded: a server killed mid-request (failover tests) must fail the call, not hang it for undici's 300 s.
    const res = await fetch(`${s.url}${path}`, { method, headers, signal: AbortSignal.timeout(60_000), ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, json: (await res.json()) as T };
  }

  async waitApi(server: string): Promise<void> {
    await eventually(`server ${server} API`, async () => (await this.api(server, 'GET', '/healthz')).status === 200, 30_000, 200);
  }

  /** Running replica containers of `service` per node, read from the engines themselves. */
  async running(service: string): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const n of this.nodes) {
      if (n.engine.proc.exitCode !== null || n.engine.proc.signalCode !== null) continue;
      const list = await n.engine.engine.containers.list({ labels: { [LABEL.service]: service, [LABEL.test]: this.runId } });
      out.set(n.name, list.filter((c) => c.status === 'running').length);
    }
    return out;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.servers.values()].map((s) => killProc(s.proc)));
    await Promise.all(this.nodes.map((n) => killProc(n.agent)));
    for (const n of this.nodes) {
      const list = await n.engine.engine.containers.list({ all: true, labels: { [LABEL.test]: this.runId } }).catch(() => []);
      await Promise.all(list.map((c) => n.engine.engine.containers.remove(c.id, { force: true }).catch(() => undefined)));
    }
    await Promise.all(this.nodes.map((n) => n.engine.stop()));
    await deleteNodeQueues(this.nodes.map((n) => nodeQueue(n.name))).catch(() => undefined);
  }
}

/** The per-node queues (AMQP) or streams (Redis) are durable: remove this run's. */
async function deleteNodeQueues(queues: string[]): Promise<void> {
  if (BROKER.startsWith('redis')) {
    const r = new Redis(BROKER);
    try {
      if (queues.length > 0) await r.del(...queues);
    } finally {
      r.disconnect();
    }
    return;
  }
  const conn = await amqp.connect(BROKER);
  try {
    const ch = await conn.createChannel();
    for (const q of queues) await ch.deleteQueue(q);
  } finally {
    await conn.close();
  }
}

export const sum = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
