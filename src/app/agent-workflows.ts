/**
 * The agent's workflow part: the store (embedded PGlite in the state dir, or a shared
 * PostgreSQL), the durable executor that runs executions under the agent's stable name, the
 * end-reply sender, and the workflow.* channels. Stop order: executor (detaches running
 * tasks, releases leases), reply sender, store.
 */
import { DEFAULT_WORKFLOW_MAX_TASKS, TaskLimiter } from '../workflow/durable/task-limiter.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isPostgresUrl } from '../adapters/store-sql/db.js';
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
import { PendingStartReplies } from '../workflow/durable/start-replies.js';
import { EndReplySender } from '../workflow/durable/end-reply-sender.js';
import { buildTaskRunners } from '../workflow/durable/runner-set.js';
import { stableAgentName } from './agent-name.js';
import { openOnUse } from './open-on-use.js';
import { RunQuotas } from '../pipeline/quotas.js';

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
  /** The agent's run quotas, so workflow tasks and plain runs share one count; its own when left out. */
  quotas?: RunQuotas;
  /** Task runs in flight at once across executions (--workflow-max-tasks); default DEFAULT_WORKFLOW_MAX_TASKS. */
  maxTasks?: number;
}

export interface AgentWorkflows {
  store: WorkflowStore;
  executor: DurableExecutor;
  /** Task runs in flight and waiting for a slot (--workflow-max-tasks), for /metrics and the status. */
  taskLimiter: TaskLimiter;
  owner: string;
  actions: Action[];
  start(): void;
  stop(): Promise<void>;
}

/**
 * Why this agent runs no workflows, if it runs none. A policy naming publishers (users) no longer
 * turns them off: executions and definitions are each publisher's own, and tasks run under their
 * starter's policy and quotas.
 */
export function workflowsOffBecause(_policy: Policy, asked: boolean | undefined): string | undefined {
  if (asked === false) return 'turned off (--no-workflows)';
  return undefined;
}

export async function openAgentWorkflows(o: AgentWorkflowOptions): Promise<AgentWorkflows> {
  const location = o.storeUrl ?? join(o.stateDir, 'workflows');
  // An embedded store not made yet holds no execution to resume: it is made at the first workflow message.
  const deferred = !isPostgresUrl(location) && location !== 'memory:' && !existsSync(location);
  let started = false;
  let wanted = false;
  const startParts = (): void => {
    if (started || !wanted) return;
    started = true;
    executor.start();
    replies.start();
  };
  const store: WorkflowStore = deferred ? openOnUse('pglite', () => openWorkflowStore(location), () => queueMicrotask(startParts)) : await openWorkflowStore(location);
  const owner = o.name ?? stableAgentName(o.stateDir);
  const log = o.log.child({ part: 'workflows' });
  const startReplies = new PendingStartReplies();
  const replies = new EndReplySender({ store, transport: o.transport, log, startReplies });
  const taskLimiter = new TaskLimiter(o.maxTasks ?? DEFAULT_WORKFLOW_MAX_TASKS);
  const executor = new DurableExecutor({
    store, owner, clock: o.clock,
    taskLimiter,
    runners: buildTaskRunners({
      engine: o.engine, policy: o.policy, log, clock: o.clock, transport: o.transport,
      quotas: o.quotas ?? new RunQuotas(o.engine, () => o.clock.now()),
      ...(o.cluster ? { cluster: o.cluster } : {}),
    }),
    onEnd: (rec) => replies.sendFor(rec),
    log: (msg) => log.info(msg),
  });
  return {
    store, executor, owner, taskLimiter,
    actions: workflowActions({ store, kick: () => executor.kick(), perPublisher: o.policy.users !== undefined, startReplies }),
    start() {
      wanted = true;
      if (!deferred) startParts();
    },
    async stop() {
      await executor.stop();
      await replies.stop();
      await store.close();
    },
  };
}
