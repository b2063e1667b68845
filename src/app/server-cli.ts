import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { createTransport } from '../adapters/transport-factory.js';
import { brokerUrlOf } from './env-defaults.js';
import { openClusterStore } from '../adapters/store-sql/sql-store.js';
import { loadClusterKey } from '../cluster/key.js';
import { DEFAULT_MAX_REPLICAS } from '../cluster/server/api.js';
import { assertServerAuth } from '../cluster/server/auth.js';
import { startClusterServer } from '../cluster/server/server.js';
import { toBosunError } from '../domain/errors.js';
import { createLogger } from '../util/log.js';
import type { Policy } from '../domain/policy.js';
import { loadPolicy } from './policy-file.js';

function intOpt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`not a positive integer: ${v}`);
  return n;
}

interface ServerOpts {
  http: string; store: string; broker?: string; token?: string; tokenFile?: string; insecureNoAuth?: boolean; clusterKey?: string; policy?: string;
  maxReplicas: number; maxMessageAgeMs: number; heartbeatGraceMs: number; tickMs: number; leaseTtlMs: number; backoffBaseMs: number; name?: string;
}

/** `bosun server`: REST API + controller + scheduler (seed 001's API server and controller). */
export function registerServerCommands(program: Command): void {
  program
    .command('server')
    .description('cluster API server and controller (one leads; others serve the API and stand by)')
    .option('--http <host:port>', 'REST API address (beyond loopback only with a token)', '127.0.0.1:5000')
    .option('--store <url>', 'postgres://… for PostgreSQL, a directory for embedded PGlite, memory: for a throwaway store', './.bosun/store')
    .option('--broker <url>', 'amqp://… or redis://… (env BOSUN_BROKER_URL; default the local RabbitMQ)')
    .option('--token <token>', 'bearer token every API call must carry (at least 16 characters; env BOSUN_TOKEN)')
    .option('--token-file <file>', 'read the bearer token from a file (not visible in ps)')
    .option('--cluster-key <file>', 'shared key sealing orders to nodes and their reports (default: BOSUN_CLUSTER_KEY)')
    .option('--insecure-no-auth', 'run without token and cluster key (API on loopback only)')
    .option('--policy <file>', 'refuse service specs this host-safety policy forbids at PUT time (nodes enforce their own)')
    .option('--max-replicas <n>', 'most replicas one service may ask for', intOpt, DEFAULT_MAX_REPLICAS)
    .option('--max-message-age-ms <ms>', 'node reports older than this are refused (replay window)', intOpt, 60_000)
    .option('--heartbeat-grace-ms <ms>', 'a node silent this long is dead', intOpt, 2_000)
    .option('--tick-ms <ms>', 'controller reconcile period', intOpt, 250)
    .option('--lease-ttl-ms <ms>', 'leader lease; a dead leader is replaced after this', intOpt, 3_000)
    .option('--backoff-base-ms <ms>', 'first restart delay of a failing replica (doubles each time)', intOpt, 1_000)
    .option('--name <holder>', 'name of this server in the leader lease')
    .action(async (opts: ServerOpts) => {
      const log = createLogger({ name: 'bosun-server' });
      const [host = '127.0.0.1', port = '5000'] = opts.http.split(/:(?=\d+$)/);
      let token: string | undefined;
      let clusterKey: Buffer | undefined;
      let policy: Policy | undefined;
      try {
        token = opts.tokenFile ? readFileSync(opts.tokenFile, 'utf8').trim() : (opts.token ?? process.env.BOSUN_TOKEN) || undefined;
        clusterKey = loadClusterKey({ file: opts.clusterKey, env: process.env.BOSUN_CLUSTER_KEY, warn: (m) => log.warn(m) });
        assertServerAuth({ host, token, clusterKey, insecureNoAuth: opts.insecureNoAuth });
        policy = opts.policy ? await loadPolicy(opts.policy) : undefined;
      } catch (e) {
        const err = toBosunError(e, 'invalid_message');
        log.error({ code: err.code, field: err.field }, `not starting: ${err.message}`);
        process.exit(2);
      }
      const store = await openClusterStore(opts.store);
      const transport = await createTransport(brokerUrlOf(opts.broker), log);
      const server = await startClusterServer({
        store, transport, log, host, port: Number(port), tickMs: opts.tickMs, leaseTtlMs: opts.leaseTtlMs,
        planner: { heartbeatGraceMs: opts.heartbeatGraceMs, backoffBaseMs: opts.backoffBaseMs },
        maxReplicas: opts.maxReplicas, maxMessageAgeMs: opts.maxMessageAgeMs,
        ...(token ? { token } : {}), ...(clusterKey ? { clusterKey } : {}), ...(opts.insecureNoAuth ? { insecureNoAuth: true } : {}),
        ...(policy ? { policy } : {}), ...(opts.name ? { holder: opts.name } : {}),
      });
      const shutdown = async () => {
        log.info('shutting down');
        await server.close();
        await transport.close();
        await store.close();
        process.exit(0);
      };
      process.once('SIGTERM', () => void shutdown());
      process.once('SIGINT', () => void shutdown());
    });
}
