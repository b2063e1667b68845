/** Composition of one `bosun server`: store + transport + controller + report consumer + REST API. */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { ClusterStore } from '../../ports/store.js';
import type { Subscription, Transport } from '../../ports/transport.js';
import type { PlannerConfig } from '../../planner/cluster/types.js';
import type { Logger } from '../../util/log.js';
import { REPORTS_CHANNEL } from '../protocol.js';
import { buildApi } from './api.js';
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
  const holder = o.holder ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const metrics = createClusterMetrics();
  const controller = new Controller({
    store: o.store, transport: o.transport, log: o.log, holder, metrics,
    ...(o.tickMs !== undefined ? { tickMs: o.tickMs } : {}),
    ...(o.leaseTtlMs !== undefined ? { leaseTtlMs: o.leaseTtlMs } : {}),
    ...(o.planner ? { planner: o.planner } : {}),
  });
  await o.transport.connect();
  await o.transport.declareChannel(REPORTS_CHANNEL);
  const sub: Subscription = await o.transport.consume(REPORTS_CHANNEL, reportHandler({ store: o.store, transport: o.transport, log: o.log, onChange: () => controller.wake() }), { prefetch: 1 });
  const graceMs = o.planner?.heartbeatGraceMs ?? 2_000;
  const api = buildApi({ store: o.store, controller, log: o.log, heartbeatGraceMs: graceMs, metrics: metrics.registry, ...(o.token ? { token: o.token } : {}) });
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
