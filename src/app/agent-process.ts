/**
 * Composition root of `bosun agent`: builds every adapter once and wires them together.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createEngine } from '../adapters/engine-factory.js';
import { createTransport } from '../adapters/transport-factory.js';
import { buildRegistry } from '../actions/registry.js';
import type { Action } from '../actions/types.js';
import { Agent } from '../agent/agent.js';
import { BosunError } from '../domain/errors.js';
import { addWorkflowTaskMetrics, createAgentMetrics } from '../agent/metrics.js';
import { MonitorManager } from '../monitors/manager.js';
import { systemClock } from '../ports/clock.js';
import type { Transport } from '../ports/transport.js';
import type { Logger } from '../util/log.js';
import { startStatusServer } from './http-status.js';
import { loadWarmPools } from '../warm/start.js';
import { stableAgentName } from './agent-name.js';
import { loadPolicy } from './policy-file.js';
import { prepareBindRoots, prepareStateDir } from './host-setup.js';
import { openAgentLedger, type LedgerMode } from './run-ledger-setup.js';
import { RunQuotas } from '../pipeline/quotas.js';
import { openAgentWorkflows, workflowsOffBecause, type AgentWorkflows } from './agent-workflows.js';

export interface AgentProcessOptions {
  brokerUrl: string;
  dockerHost?: string;
  concurrency: number;
  policyFile?: string;
  /** Warm pools (YAML), see src/warm/pool-file.ts. */
  poolsFile?: string;
  /** How often the pools drop dead idle members and refill (default 5 s); set only by tests. */
  poolSweepMs?: number;
  http?: string;
  stateDir?: string;
  dispatchQueue?: string;
  checkpointMs?: number;
  errorsChannel?: string;
  /** Bodies above this are parked as message_too_large undecoded (default 1 MiB). */
  maxBodyBytes?: number;
  /** Deliveries for retryable failures before a message is parked as redelivery_limit (default 5). */
  maxAttempts?: number;
  /** Further channels (made with defineAction). */
  extraActions?: Action[];
  /** Run ledger: auto (default: on with a postgres:// store), on (also embedded), off. */
  ledger?: LedgerMode;
  /** Run ledger lease (default 30 s), renewed while the run goes on. */
  ledgerLeaseMs?: number;
  /** The store: `postgres://…` (shared by agents) or a PGlite directory; default `<stateDir>/workflows` for workflows. */
  storeUrl?: string;
  /** This agent's stable name (workflow leases are held under it); default hostname + a hash of the state dir. */
  name?: string;
  /** false: no workflow store, executor or workflow.* channels (default true). */
  workflows?: boolean;
  /** Workflow task runs in flight at once across executions (--workflow-max-tasks). */
  workflowMaxTasks?: number;
  log: Logger;
}

export interface AgentProcess {
  agent: Agent;
  transport: Transport;
  /** The workflow part, unless started with workflows: false. */
  workflows?: Pick<AgentWorkflows, 'store' | 'executor' | 'owner'>;
  http?: FastifyInstance;
  stop(): Promise<void>;
}

export function defaultStateDir(): string {
  return process.env.BOSUN_STATE_DIR ?? (process.getuid?.() === 0 ? '/var/lib/bosun' : join(homedir(), '.bosun'));
}

export async function startAgentProcess(o: AgentProcessOptions): Promise<AgentProcess> {
  const policy = await loadPolicy(o.policyFile);
  const stateDir = o.stateDir ?? defaultStateDir();
  prepareStateDir(stateDir, policy);
  prepareBindRoots(policy, o.log);
  const engine = createEngine({ host: o.dockerHost });
  const info = await engine.info();
  o.log.info({ engine: info.name, version: info.serverVersion }, 'docker engine reachable');
  const metrics = createAgentMetrics();
  const pools = o.poolsFile ? await loadWarmPools(o.poolsFile, { engine, policy, log: o.log.child({ part: 'warm' }), registry: metrics.registry, owner: o.name ?? stableAgentName(stateDir), sweepMs: o.poolSweepMs }) : undefined;
  const ledger = await openAgentLedger({
    stateDir, log: o.log.child({ part: 'ledger' }),
    ...(o.storeUrl ? { storeUrl: o.storeUrl } : {}),
    ...(o.ledger !== undefined ? { mode: o.ledger } : {}),
    ...(o.ledgerLeaseMs ? { leaseMs: o.ledgerLeaseMs } : {}),
    ...(o.name ? { agentName: o.name } : {}),
  });
  const transport = await createTransport(o.brokerUrl, o.log);
  if (policy.users && transport.kind === 'redis') {
    // Redis hands consumers no publisher identity: a policy naming users could only refuse everything.
    throw new BosunError('invalid_message', 'the policy names publishers (users), but Redis does not tell consumers who published; isolate tenants by stream prefix and ACL instead (see the README)', { field: 'users' });
  }
  await transport.connect();
  const monitors = new MonitorManager({
    engine,
    clock: systemClock,
    log: o.log.child({ part: 'monitors' }),
    stateFile: join(stateDir, 'monitors.json'),
    notify: (channel, notice) => transport.publish(channel, JSON.stringify(notice), { declare: true }),
  });
  // One count of run quotas per publisher, for plain runs and workflow tasks alike.
  const quotas = new RunQuotas(engine, () => systemClock.now());
  const workflowsOff = workflowsOffBecause(policy, o.workflows);
  if (workflowsOff && o.workflows !== false) o.log.warn({ part: 'workflows' }, `no workflow.* channels: ${workflowsOff}`);
  const workflows = workflowsOff ? undefined : await openAgentWorkflows({
    stateDir, engine, policy, transport, clock: systemClock, log: o.log, quotas,
    ...(o.storeUrl ? { storeUrl: o.storeUrl } : {}), ...(o.name ? { name: o.name } : {}),
    ...(o.workflowMaxTasks !== undefined ? { maxTasks: o.workflowMaxTasks } : {}),
  });
  if (workflows) addWorkflowTaskMetrics(metrics.registry, workflows.taskLimiter);
  const extra = [...(o.extraActions ?? []), ...(workflows?.actions ?? [])];
  const registry = buildRegistry({ monitors }, { ...(o.dispatchQueue ? { dispatchQueue: o.dispatchQueue } : {}), ...(extra.length ? { extra } : {}) });
  const agent = new Agent({
    transport, engine, registry, policy, clock: systemClock, log: o.log, metrics, concurrency: o.concurrency, quotas,
    ...(o.checkpointMs ? { checkpointMs: o.checkpointMs } : {}),
    ...(o.errorsChannel ? { errorsChannel: o.errorsChannel } : {}),
    ...(o.maxBodyBytes ? { maxBodyBytes: o.maxBodyBytes } : {}),
    ...(o.maxAttempts ? { maxAttempts: o.maxAttempts } : {}),
    ...(pools ? { pools } : {}),
    ...(ledger ? { ledger: ledger.deps } : {}),
  });
  await monitors.start();
  await pools?.start();
  const monitorGauge = setInterval(() => metrics.monitors.set(monitors.size), 1000);
  workflows?.start();
  await agent.start();
  const http = o.http
    ? await startStatusServer(o.http, metrics.registry, () => ({
        ok: transport.isConnected(),
        details: { broker: transport.isConnected() ? 'connected' : 'reconnecting', monitors: monitors.size, ...(pools ? { pools: pools.status() } : {}),
          ...(workflows ? { workflow_tasks: { running: workflows.taskLimiter.running, waiting: workflows.taskLimiter.waiting } } : {}) },
      }))
    : undefined;
  return {
    agent,
    transport,
    ...(workflows ? { workflows } : {}),
    ...(http ? { http } : {}),
    async stop() {
      clearInterval(monitorGauge);
      await agent.stop();
      await workflows?.stop();
      await monitors.stop();
      await pools?.stop();
      await http?.close();
      await transport.close();
      await ledger?.close();
    },
  };
}
