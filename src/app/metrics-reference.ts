/**
 * The README's metrics reference, read off the registries the agent, the node and the server
 * build (pure of I/O: registries in memory, Markdown out). Node's process metrics that
 * prom-client adds under each prefix are named once, not listed.
 */
import type { Registry } from 'prom-client';
import { addWorkflowTaskMetrics, createAgentMetrics } from '../agent/metrics.js';
import { createNodeMetrics } from '../cluster/node/metrics.js';
import { createClusterMetrics } from '../cluster/server/metrics.js';
import { createPoolMetrics } from '../warm/metrics.js';

const PROCESS_METRIC = /^bosun_(node_|server_)?(process_|nodejs_)/;

async function rows(registry: Registry, where: string): Promise<string[]> {
  const out: string[] = [];
  for (const { name, help } of registry.getMetricsAsArray()) {
    if (PROCESS_METRIC.test(name)) continue;
    // The metric itself knows its type and labels (the summary object has no label names).
    const metric = registry.getSingleMetric(name)!;
    const { type } = await metric.get();
    const labels = ((metric as unknown as { labelNames?: readonly string[] }).labelNames ?? []).join(', ');
    out.push(`| \`${name}\` | ${where} | ${String(type)} | ${labels} | ${help.replace(/\|/g, '\\|')} |`);
  }
  return out;
}

export async function metricsReference(): Promise<string> {
  const agent = createAgentMetrics();
  createPoolMetrics(agent.registry);
  addWorkflowTaskMetrics(agent.registry, { running: 0, waiting: 0 });
  const node = createNodeMetrics(true);
  const server = createClusterMetrics();
  const lines = [
    '| metric | process | type | labels | meaning |',
    '|---|---|---|---|---|',
    ...(await rows(agent.registry, 'agent')),
    ...(await rows(node.registry, 'node')),
    ...(await rows(server.registry, 'server')),
  ];
  // The registries hold timers of prom-client's process metrics; nothing scrapes these.
  for (const r of [agent.registry, node.registry, server.registry]) r.clear();
  return `${lines.join('\n')}\n\nPlus Node's process metrics (CPU, memory, event loop lag, handles, GC) under \`bosun_\` (agent), \`bosun_node_\` and \`bosun_server_\`.\n`;
}
