/** Composition of one `bosun server`: store + transport + controller + report consumer + REST API. */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { ClusterStore } from '../../ports/store.js';
import type { Subscription, Transport } from '../../ports/transport.js';
import type { PlannerConfig } from '../../domain/cluster.js';
import type { Policy } from '../../domain/policy.js';
import type { Logger } from '../../util/log.js';
import { REPORTS_CHANNEL } from '../protocol.js';
import { SERVERS, Sealer } from '../seal.js';
import { buildApi } from './api.js';
import { assertServerAuth } from './auth.js';
import { Controller } from './controller.js';
import { createClusterMetrics } from './metrics.js';
import { reportHandler } from './reports.js';

export interface ClusterServerOptions {
  store: ClusterStore;
  transport: Transport;
  log: Logger;
  host: string;
  port: number;
  token?: string;
  /** The shared key sealing orders to nodes and their reports (seal.ts). */
  clusterKey?: Buffer;
  /** Runs without token and key (loopback only); for tests and trying things out. */
  insecureNoAuth?: boolean;
  /** How old a node report may be before it is refused as stale or replayed. */
  maxMessageAgeMs?: number;
  /** A spec this policy refuses is rejected at PUT (nodes enforce their own policy regardless). */
  policy?: Policy;
  maxReplicas?: number;
  holder?: string;
  tickMs?: number;
  leaseTtlMs?: number;
  planner?: Partial<PlannerConfig> & { pendingTimeoutMs?: number };
}

export interface RunningServer {
  url: string;
  controller: Controller;
  close(): Promise<void>;
}

export async function startClusterServer(o: ClusterServerOptions): Promise<RunningServer> {
  assertServerAuth(o);
  const sealer = new Sealer({ key: o.clusterKey, self: SERVERS, ...(o.maxMessageAgeMs !== undefined ? { maxAgeMs: o.maxMessageAgeMs } : {}) });
  if (!o.token) o.log.warn({ host: o.host }, 'INSECURE: the cluster API has no token (--insecure-no-auth); anyone who reaches it can run containers');
  if (!o.clusterKey) o.log.warn('INSECURE: orders to nodes are not signed (--insecure-no-auth); anyone who can publish to the broker can run containers on the nodes');
  const holder = o.holder ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const metrics = createClusterMetrics();
  const controller = new Controller({
    store: o.store, transport: o.transport, sealer, log: o.log, holder, metrics,
    ...(o.tickMs !== undefined ? { tickMs: o.tickMs } : {}),
    ...(o.leaseTtlMs !== undefined ? { leaseTtlMs: o.leaseTtlMs } : {}),
    ...(o.planner ? { planner: o.planner } : {}),
  });
  await o.transport.connect();
  await o.transport.declareChannel(REPORTS_CHANNEL);
  const sub: Subscription = await o.transport.consume(REPORTS_CHANNEL, reportHandler({
    store: o.store, transport: o.transport, sealer, log: o.log, onChange: () => controller.wake(), onRejected: (reason) => metrics.reportRejected(reason),
  }), { prefetch: 1 });
  const graceMs = o.planner?.heartbeatGraceMs ?? 2_000;
  const api = buildApi({
    store: o.store, controller, log: o.log, heartbeatGraceMs: graceMs, metrics: metrics.registry,
    ...(o.token ? { token: o.token } : { insecureNoAuth: true }), ...(o.policy ? { policy: o.policy } : {}), ...(o.maxReplicas !== undefined ? { maxReplicas: o.maxReplicas } : {}),
  });
  const url = await api.listen({ host: o.host, port: o.port });
  controller.start();
  o.log.info({ url, holder, store: o.store.kind }, 'bosun server listening');
  return {
    url,
    controller,
    async close() {
      await api.close();
      await sub.cancel();
      await controller.stop();
    },
  };
}
