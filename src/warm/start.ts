/** Builds and starts the agent's warm pools from a pool file (composition-root helper). */
import type { Registry } from 'prom-client';
import type { Policy } from '../domain/policy.js';
import type { ContainerEngine } from '../ports/engine.js';
import type { Logger } from '../util/log.js';
import { createPoolMetrics } from './metrics.js';
import { loadPoolFile } from './pool-file.js';
import { WarmPools } from './pools.js';

export async function startWarmPools(path: string, o: { engine: ContainerEngine; policy: Policy; log: Logger; registry: Registry }): Promise<WarmPools> {
  const file = await loadPoolFile(path);
  const pools = new WarmPools({ engine: o.engine, policy: o.policy, log: o.log, file, metrics: createPoolMetrics(o.registry) });
  await pools.start();
  return pools;
}
