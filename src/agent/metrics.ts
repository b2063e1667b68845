import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface AgentMetrics {
  registry: Registry;
  inflight: Gauge;
  monitors: Gauge;
  observe(channel: string, outcome: 'ok' | 'failed' | 'rejected' | 'requeued', ms: number): void;
}

export function createAgentMetrics(): AgentMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'bosun_' });
  const messages = new Counter({ name: 'bosun_messages_total', help: 'Messages handled, by channel and outcome (ok, failed, rejected, requeued)', labelNames: ['channel', 'outcome'], registers: [registry] });
  const duration = new Histogram({
    name: 'bosun_message_duration_seconds',
    help: 'Time from receipt to settled reply',
    labelNames: ['channel'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120, 600],
    registers: [registry],
  });
  const inflight = new Gauge({ name: 'bosun_inflight_messages', help: 'Messages being handled', registers: [registry] });
  const monitors = new Gauge({ name: 'bosun_active_monitors', help: 'Active container monitors', registers: [registry] });
  return {
    registry,
    inflight,
    monitors,
    observe(channel, outcome, ms) {
      messages.inc({ channel, outcome });
      duration.observe({ channel }, ms / 1000);
    },
  };
}

/** The workflow task limiter's slots, read at each scrape. */
export function addWorkflowTaskMetrics(registry: Registry, limiter: { readonly running: number; readonly waiting: number }): void {
  new Gauge({ name: 'bosun_workflow_tasks_running', help: 'Workflow task runs in flight (bounded by --workflow-max-tasks)', registers: [registry], collect() { this.set(limiter.running); } });
  new Gauge({ name: 'bosun_workflow_tasks_waiting', help: 'Workflow tasks waiting for a slot under --workflow-max-tasks', registers: [registry], collect() { this.set(limiter.waiting); } });
}
