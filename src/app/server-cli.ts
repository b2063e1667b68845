import type { Command } from 'commander';
import { createTransport, DEFAULT_BROKER_URL } from '../adapters/transport-factory.js';
import { openClusterStore } from '../adapters/store-sql/sql-store.js';
import { startClusterServer } from '../cluster/server/server.js';
import { createLogger } from '../util/log.js';

function intOpt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`not a positive integer: ${v}`);
  return n;
}

/** `bosun server`: REST API + controller + scheduler (seed 001's API server and controller). */
export function registerServerCommands(program: Command): void {
  program
    .command('server')
    .description('cluster API server and controller (one leads; others serve the API and stand by)')
    .option('--http <host:port>', 'REST API address', '127.0.0.1:5000')
    .option('--store <url>', 'postgres://… for PostgreSQL, a directory for embedded PGlite, memory: for a throwaway store', './.bosun/store')
    .option('--broker <url>', 'amqp://… or redis://…', process.env.BOSUN_BROKER ?? DEFAULT_BROKER_URL)
    .option('--token <token>', 'require this bearer token on the API', process.env.BOSUN_TOKEN)
    .option('--heartbeat-grace-ms <ms>', 'a node silent this long is dead', intOpt, 2_000)
    .option('--tick-ms <ms>', 'controller reconcile period', intOpt, 250)
    .option('--lease-ttl-ms <ms>', 'leader lease; a dead leader is replaced after this', intOpt, 3_000)
    .option('--backoff-base-ms <ms>', 'first restart delay of a failing replica (doubles each time)', intOpt, 1_000)
    .option('--name <holder>', 'name of this server in the leader lease')
    .action(async (opts: { http: string; store: string; broker: string; token?: string; heartbeatGraceMs: number; tickMs: number; leaseTtlMs: number; backoffBaseMs: number; name?: string }) => {
      const log = createLogger({ name: 'bosun-server' });
      const [host = '127.0.0.1', port = '5000'] = opts.http.split(/:(?=\d+$)/);
      const store = await openClusterStore(opts.store);
      const transport = await createTransport(opts.broker, log);
      const server = await startClusterServer({
        store, transport, log, host, port: Number(port), tickMs: opts.tickMs, leaseTtlMs: opts.leaseTtlMs,
        planner: { heartbeatGraceMs: opts.heartbeatGraceMs, backoffBaseMs: opts.backoffBaseMs },
        ...(opts.token ? { token: opts.token } : {}), ...(opts.name ? { holder: opts.name } : {}),
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
