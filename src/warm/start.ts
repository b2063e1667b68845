/** Builds the agent's warm pools from a pool file, policy-checked; nothing is created until start(). */
import type { Registry } from 'prom-client';
import type { Policy } from '../domain/policy.js';
import type { ContainerEngine } from '../ports/engine.js';
import type { Logger } from '../util/log.js';
import { createPoolMetrics } from './metrics.js';
import { loadPoolFile } from './pool-file.js';
import { WarmPools } from './pools.js';

export async function loadWarmPools(path: string, o: { engine: ContainerEngine; policy: Policy; log: Logger; registry: Registry; owner: string; sweepMs?: number | undefined }): Promise<WarmPools> {
  const file = await loadPoolFile(path);
  return new WarmPools({ engine: o.engine, policy: o.policy, log: o.log, file, owner: o.owner, metrics: createPoolMetrics(o.registry), ...(o.sweepMs !== undefined ? { sweepMs: o.sweepMs } : {}) });
}
