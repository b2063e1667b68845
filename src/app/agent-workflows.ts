/**
 * The agent's workflow part: the store (embedded PGlite in the state dir, or a shared
 * PostgreSQL), the durable executor that runs executions under the agent's stable name, the
 * end-reply sender, and the workflow.* channels. Stop order: executor (detaches running
 * tasks, releases leases), reply sender, store.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { openWorkflowStore } from '../adapters/store-sql/workflow-store.js';
import { workflowActions } from '../actions/workflow/index.js';
import type { Action } from '../actions/types.js';
import type { Policy } from '../domain/policy.js';
import type { Clock } from '../ports/clock.js';
import type { ContainerEngine } from '../ports/engine.js';
import type { Transport } from '../ports/transport.js';
import type { WorkflowStore } from '../ports/workflow-store.js';
import type { Logger } from '../util/log.js';
import { DurableExecutor } from '../workflow/durable/executor.js';
import { EndReplySender } from '../workflow/durable/end-reply-sender.js';
import { buildTaskRunners } from '../workflow/durable/runner-set.js';

export interface AgentWorkflowOptions {
  stateDir: string;
  /** `postgres://…` (shared by agents), a PGlite directory, or `memory:`; default `<stateDir>/workflows`. */
  storeUrl?: string;
  /** Leases are held under it; default hostname + a hash of the state dir. */
  name?: string;
  engine: ContainerEngine;
  policy: Policy;
  transport: Transport;
  clock: Clock;
  log: Logger;
  cluster?: { url: string; token?: string };
}

export interface AgentWorkflows {
  store: WorkflowStore;
  executor: DurableExecutor;
  owner: string;
  actions: Action[];
  start(): void;
  stop(): Promise<void>;
}

/** A name that stays the same across restarts of this agent (same host, same state dir). */
export function stableAgentName(stateDir: string): string {
  return `${hostname()}:${createHash('sha256').update(resolve(stateDir)).digest('hex').slice(0, 12)}`;
}

export async function openAgentWorkflows(o: AgentWorkflowOptions): Promise<AgentWorkflows> {
  const store = await openWorkflowStore(o.storeUrl ?? join(o.stateDir, 'workflows'));
  const owner = o.name ?? stableAgentName(o.stateDir);
  const log = o.log.child({ part: 'workflows' });
  const replies = new EndReplySender({ store, transport: o.transport, log });
  const executor = new DurableExecutor({
    store, owner, clock: o.clock,
    runners: buildTaskRunners({
      engine: o.engine, policy: o.policy, log, clock: o.clock, transport: o.transport,
      ...(o.cluster ? { cluster: o.cluster } : {}),
    }),
    onEnd: (rec) => replies.sendFor(rec),
    log: (msg) => log.info(msg),
  });
  return {
    store, executor, owner,
    actions: workflowActions({ store, kick: () => executor.kick() }),
    start() {
      executor.start();
      replies.start();
    },
    async stop() {
      await executor.stop();
      await replies.stop();
      await store.close();
    },
  };
}
