import type { Command } from 'commander';
import { createEngine } from '../adapters/engine-factory.js';
import { createTransport } from '../adapters/transport-factory.js';
import { brokerUrlOf } from './env-defaults.js';
import { loadClusterKey } from '../cluster/key.js';
import { createNodeMetrics } from '../cluster/node/metrics.js';
import { NodeAgent } from '../cluster/node/agent.js';
import { NAME_RE } from '../cluster/protocol.js';
import { Sealer } from '../cluster/seal.js';
import { toBosunError } from '../domain/errors.js';
import { createLogger } from '../util/log.js';
import { startStatusServer } from './http-status.js';
import type { Policy } from '../domain/policy.js';
import { loadPolicy } from './policy-file.js';

interface NodeOpts {
  name: string; broker?: string; dockerHost?: string; label: string[]; heartbeatMs: number; clusterKey?: string; insecureNoAuth?: boolean;
  policy?: string; http?: string; maxMessageAgeMs: number;
}

/** `bosun node --name N`: the node agent next to one Docker engine; talks only through the broker. */
export function registerNodeCommands(program: Command): void {
  program
    .command('node')
    .description('cluster node agent: runs the replicas assigned to this node')
    .requiredOption('--name <name>', 'node name (routing key and queue co_node_<name>)')
    .option('--broker <url>', 'amqp://… or redis://… (env BOSUN_BROKER_URL; default the local RabbitMQ)')
    .option('--docker-host <host>', 'Docker engine (default DOCKER_HOST or the local socket)')
    .option('--label <k=v...>', 'node labels for placement constraints', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--heartbeat-ms <ms>', 'heartbeat period', (v: string) => Number(v), 500)
    .option('--cluster-key <file>', 'shared key: orders must be sealed with it, reports are (default: BOSUN_CLUSTER_KEY)')
    .option('--insecure-no-auth', 'take unsigned orders (anyone who can publish to the broker can run containers here)')
    .option('--policy <file>', 'host-safety policy every replica must pass (the safe default otherwise)')
    .option('--http <host:port>', '/healthz and /metrics (Prometheus) on this address')
    .option('--max-message-age-ms <ms>', 'orders older than this are refused (replay window)', (v: string) => Number(v), 60_000)
    .action(async (opts: NodeOpts) => {
      const log = createLogger({ name: `bosun-node-${opts.name}` });
      if (!NAME_RE.test(opts.name)) {
        log.error({ name: opts.name }, 'invalid node name (letters, digits, _ . - only)');
        process.exit(2);
      }
      let key: Buffer | undefined;
      let policy: Policy | undefined;
      try {
        key = loadClusterKey({ file: opts.clusterKey, env: process.env.BOSUN_CLUSTER_KEY, warn: (m) => log.warn(m) });
        if (!key && !opts.insecureNoAuth) throw new Error('a node needs the cluster key (--cluster-key FILE or BOSUN_CLUSTER_KEY) to verify its orders; --insecure-no-auth takes unsigned ones');
        policy = await loadPolicy(opts.policy);
      } catch (e) {
        const err = toBosunError(e, 'invalid_message');
        log.error({ code: err.code, field: err.field }, `not starting: ${err.message}`);
        process.exit(2);
      }
      if (!key) log.warn('INSECURE: unsigned orders are taken (--insecure-no-auth)');
      const labels: Record<string, string> = {};
      for (const l of opts.label) {
        const i = l.indexOf('=');
        if (i > 0) labels[l.slice(0, i)] = l.slice(i + 1);
      }
      const engine = createEngine({ host: opts.dockerHost });
      const transport = await createTransport(brokerUrlOf(opts.broker), log);
      const sealer = new Sealer({ key, self: opts.name, maxAgeMs: opts.maxMessageAgeMs });
      const metrics = createNodeMetrics(true);
      const agent = new NodeAgent({ name: opts.name, engine, transport, sealer, policy, metrics, log, labels, heartbeatMs: opts.heartbeatMs });
      await agent.start();
      const http = opts.http ? await startStatusServer(opts.http, metrics.registry, () => ({ ok: transport.isConnected(), details: { node: opts.name } })) : undefined;
      const shutdown = async () => {
        await http?.close();
        await agent.stop();
        await transport.close();
        process.exit(0);
      };
      process.once('SIGTERM', () => void shutdown());
      process.once('SIGINT', () => void shutdown());
    });
}
