/**
 * `bosun glue`: Docker events drive HAProxy, etcd, scripts, plugins and the broker.
 * The composition root of glue: the engine, the broker transport and the logger are made here.
 */
import type { Command } from 'commander';
import { createEngine } from '../adapters/engine-factory.js';
import { createTransport } from '../adapters/transport-factory.js';
import { brokerUrlOf } from './env-defaults.js';
import { runGlue } from '../glue/run.js';
import { createLogger } from '../util/log.js';
import type { HandlerConfig } from '../glue/types.js';

interface GlueCliOptions {
  once?: boolean;
  watch?: boolean;
  configDir: string;
  dockerHost?: string;
  resyncMs: string;
  onlyLabel: string[];
  broker?: string;
}

/** "k=v" → {k: v}; "k" → {k: true}. */
export function parseLabelFilters(list: string[]): Record<string, string | true> | undefined {
  if (list.length === 0) return undefined;
  const out: Record<string, string | true> = {};
  for (const item of list) {
    const i = item.indexOf('=');
    if (i < 0) out[item] = true;
    else out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

interface BalancerCliOptions extends Omit<GlueCliOptions, 'configDir' | 'broker'> {
  configFile: string;
  template?: string;
  httpBind: string;
  tcpBindAddress: string;
  tcpPortOffset: string;
  reload?: string;
  reloadCommand?: string;
  network?: string;
}

/** seed 004's docker-balancer: glue with one HAProxy handler, configured by flags. */
export function balancerConfig(o: BalancerCliOptions): HandlerConfig {
  const params: Record<string, string> = {
    config_file: o.configFile,
    http_bind: o.httpBind,
    tcp_bind_address: o.tcpBindAddress,
    tcp_port_offset: o.tcpPortOffset,
  };
  if (o.template) params.template = o.template;
  if (o.reload) params.reload = o.reload;
  if (o.reloadCommand) params.reload_command = o.reloadCommand;
  if (o.network) params.network = o.network;
  return {
    name: 'balancer',
    file: '(command line)',
    type: 'haproxy',
    events: ['start', 'die', 'stop', 'kill', 'pause', 'unpause', 'destroy', 'none'],
    enabled: true,
    triggersNone: false,
    params,
    dir: process.cwd(),
  };
}

async function runFromCli(o: GlueCliOptions, configs?: HandlerConfig[]): Promise<void> {
  const log = createLogger({ name: configs ? 'bosun-balancer' : 'bosun-glue' });
  const engine = createEngine({ host: o.dockerHost });
  const ctl = new AbortController();
  const stop = () => ctl.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const labels = parseLabelFilters(o.onlyLabel);
  const result = await runGlue({
    configDir: o.configDir,
    ...(configs ? { configs } : {}),
    mode: o.once ? 'once' : 'watch',
    engine,
    log,
    signal: ctl.signal,
    resyncMs: Number(o.resyncMs),
    ...(labels ? { labels } : {}),
    deps: { createTransport: (url) => createTransport(url, log), defaultBrokerUrl: brokerUrlOf(o.broker) },
  });
  log.info(result, 'glue stopped');
  process.exitCode = o.once && (result.failures > 0 || result.configErrors > 0) ? 1 : 0;
}

const collect = (v: string, acc: string[]) => [...acc, v];

export function registerGlueCommands(program: Command): void {
  program
    .command('balancer')
    .description("HAProxy from container labels only (seed 004's docker-balancer)")
    .option('-1, --once', 'render from the current containers and exit')
    .option('-w, --watch', 'wait for events (the default)')
    .option('--config-file <file>', 'live haproxy config', '/etc/haproxy/haproxy.cfg')
    .option('--template <file>', 'nunjucks template (default templates/haproxy.cfg.njk)')
    .option('--http-bind <addr:port>', 'HTTP frontend bind', '*:80')
    .option('--tcp-bind-address <addr>', 'address of TCP listeners', '*')
    .option('--tcp-port-offset <n>', 'TCP listener port = container port + n', '0')
    .option('--reload <mode>', 'master | sf | command | none')
    .option('--reload-command <cmd>', 'shell command run to reload haproxy')
    .option('--network <name>', 'Docker network whose IPs backends use')
    .option('--docker-host <url>', 'Docker engine (default $DOCKER_HOST or the local socket)')
    .option('--resync-ms <ms>', 'periodic full resync; 0 disables', '30000')
    .option('--only-label <k=v>', 'only containers with this label (repeatable)', collect, [] as string[])
    .action((o: BalancerCliOptions) => runFromCli({ ...o, configDir: '' }, [balancerConfig(o)]));

  program
    .command('glue')
    .description('watch Docker events and run the handlers of a config dir (seed 004 docker-glue)')
    .option('-1, --once', 'render from the current containers and exit')
    .option('-w, --watch', 'wait for events (the default)')
    .option('--config-dir <dir>', 'directory of handler files (*.ini, *.yaml)', './docker-glue.d')
    .option('--docker-host <url>', 'Docker engine (default $DOCKER_HOST or the local socket)')
    .option('--resync-ms <ms>', 'periodic full resync; 0 disables', '30000')
    .option('--only-label <k=v>', 'only containers with this label (repeatable)', collect, [] as string[])
    .option('--broker <url>', 'default broker URL of broker handlers (env BOSUN_BROKER_URL; default the local RabbitMQ)')
    .action((o: GlueCliOptions) => runFromCli(o));
}
