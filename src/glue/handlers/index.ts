/** Builds a handler from its config. The broker's Transport comes from the composition root. */
import type { Transport } from '../../ports/transport.js';
import type { Logger } from '../../util/log.js';
import type { GlueHandler, HandlerConfig } from '../types.js';
import { BrokerHandler } from './broker.js';
import { EtcdPublisher } from './etcd.js';
import { HaproxyHandler } from './haproxy.js';
import { loadPlugin } from './plugin.js';
import { ScriptHandler, resolveScript } from './script.js';

export interface HandlerDeps {
  log: Logger;
  createTransport(url: string): Promise<Transport>;
  defaultBrokerUrl: string;
  /** `glue -1`: what a handler starts must outlive glue. */
  once?: boolean;
}

export async function createHandler(cfg: HandlerConfig, deps: HandlerDeps): Promise<GlueHandler> {
  const log = deps.log.child({ handler: cfg.name });
  switch (cfg.type) {
    case 'haproxy':
      return new HaproxyHandler(cfg, log, { once: deps.once ?? false });
    case 'etcd':
      return new EtcdPublisher(cfg);
    case 'script':
      return new ScriptHandler(cfg, await resolveScript(cfg));
    case 'plugin':
      return loadPlugin(cfg);
    case 'broker':
      return new BrokerHandler(cfg, await deps.createTransport(cfg.params.url ?? deps.defaultBrokerUrl));
  }
}
