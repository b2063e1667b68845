import type { Command } from 'commander';
import { DockerEngine } from '../adapters/engine-docker/docker-engine.js';
import { createTransport, DEFAULT_BROKER_URL } from '../adapters/transport-factory.js';
import { NodeAgent } from '../cluster/node/agent.js';
import { NAME_RE } from '../cluster/protocol.js';
import { createLogger } from '../util/log.js';

/** `bosun node --name N`: the node agent next to one Docker engine; talks only through the broker. */
export function registerNodeCommands(program: Command): void {
  program
    .command('node')
    .description('cluster node agent: runs the replicas assigned to this node')
    .requiredOption('--name <name>', 'node name (routing key and queue co_node_<name>)')
    .option('--broker <url>', 'amqp://… or redis://…', process.env.BOSUN_BROKER ?? DEFAULT_BROKER_URL)
    .option('--docker-host <host>', 'Docker engine (default DOCKER_HOST or the local socket)')
    .option('--label <k=v...>', 'node labels for placement constraints', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--heartbeat-ms <ms>', 'heartbeat period', (v: string) => Number(v), 500)
    .action(async (opts: { name: string; broker: string; dockerHost?: string; label: string[]; heartbeatMs: number }) => {
      const log = createLogger({ name: `bosun-node-${opts.name}` });
      if (!NAME_RE.test(opts.name)) {
        log.error({ name: opts.name }, 'invalid node name (letters, digits, _ . - only)');
        process.exit(2);
      }
      const labels: Record<string, string> = {};
      for (const l of opts.label) {
        const i = l.indexOf('=');
        if (i > 0) labels[l.slice(0, i)] = l.slice(i + 1);
      }
      const engine = new DockerEngine(opts.dockerHost ? { host: opts.dockerHost } : {});
      const transport = await createTransport(opts.broker, log);
      const agent = new NodeAgent({ name: opts.name, engine, transport, log, labels, heartbeatMs: opts.heartbeatMs });
      await agent.start();
      const shutdown = async () => {
        await agent.stop();
        await transport.close();
        process.exit(0);
      };
      process.once('SIGTERM', () => void shutdown());
      process.once('SIGINT', () => void shutdown());
    });
}
