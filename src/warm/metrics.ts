/** Warm pool figures on the agent's /metrics. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { COLD_REASONS } from './plan.js';

export interface PoolMetrics {
  hit(pool: string): void;
  miss(reason: string): void;
  idle(pool: string, n: number): void;
  refilled(pool: string, seconds: number): void;
}

export function createPoolMetrics(registry: Registry): PoolMetrics {
  const hits = new Counter({ name: 'bosun_warm_hits_total', help: 'Runs served by a prewarmed container', labelNames: ['pool'], registers: [registry] });
  const misses = new Counter({ name: 'bosun_warm_misses_total', help: `Runs that went cold, by reason (${COLD_REASONS.join(', ')})`, labelNames: ['reason'], registers: [registry] });
  const size = new Gauge({ name: 'bosun_warm_idle_containers', help: 'Idle prewarmed containers per pool', labelNames: ['pool'], registers: [registry] });
  const refill = new Histogram({
    name: 'bosun_warm_refill_seconds',
    help: 'Create+start of one pool container',
    labelNames: ['pool'],
    buckets: [0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10],
    registers: [registry],
  });
  return {
    hit: (pool) => hits.inc({ pool }),
    miss: (reason) => misses.inc({ reason }),
    idle: (pool, n) => size.set({ pool }, n),
    refilled: (pool, s) => refill.observe({ pool }, s),
  };
}
