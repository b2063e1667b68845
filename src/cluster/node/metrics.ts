/** Prometheus metrics of one `bosun node`: orders handled, orders refused before they were read, replicas refused by policy. */
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import type { RejectReason } from '../seal.js';

export interface NodeMetrics {
  registry: Registry;
  orderRejected(reason: RejectReason | 'invalid'): void;
  replicaRefused(): void;
  /** An order read and acted on (acked), whatever its outcome. */
  orderHandled(type: 'run' | 'stop'): void;
  /** Orders acted on so far (tests wait on it instead of sleeping). */
  ordersHandled(): Promise<number>;
}

export function createNodeMetrics(defaults = false): NodeMetrics {
  const registry = new Registry();
  if (defaults) collectDefaultMetrics({ register: registry, prefix: 'bosun_node_' });
  const registers = [registry];
  const rejected = new Counter({ name: 'bosun_node_orders_rejected_total', help: 'Orders refused unread: unsigned, bad signature, stale, replayed, misaddressed, or invalid', labelNames: ['reason'], registers });
  const refused = new Counter({ name: 'bosun_node_replicas_refused_total', help: 'Run orders refused by the node policy (no container created)', registers });
  const handled = new Counter({ name: 'bosun_node_orders_handled_total', help: 'Run and stop orders read and acted on', labelNames: ['type'], registers });
  return {
    registry,
    orderRejected: (reason) => rejected.inc({ reason }),
    replicaRefused: () => refused.inc(),
    orderHandled: (type) => handled.inc({ type }),
    ordersHandled: async () => (await handled.get()).values.reduce((n, v) => n + v.value, 0),
  };
}
