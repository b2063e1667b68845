/**
 * The task runners an agent (or `bosun workflow run`) gives its executor: resource → runner.
 * A new task resource is one runner module and one line below.
 */
import type { Policy } from '../../domain/policy.js';
import type { ContainerEngine } from '../../ports/engine.js';
import type { Clock } from '../../ports/clock.js';
import type { Transport } from '../../ports/transport.js';
import type { Logger } from '../../util/log.js';
import type { RunQuotas } from '../../pipeline/quotas.js';
import { PublishTaskRunner } from './publish-task.js';
import { RunTaskRunner } from './run-task.js';
import { ServiceTaskRunner } from './service-task.js';
import { StackTaskRunner } from './stack-task.js';
import type { TaskRunner } from './tasks.js';
import { LedgerGuardedRunner, type TaskLedgerDeps } from './task-ledger.js';

export interface RunnerDeps {
  engine: ContainerEngine;
  policy: Policy;
  log: Logger;
  clock?: Clock;
  /** The broker, when the executor runs inside an agent (bosun:publish needs it). */
  transport?: Transport;
  /** Cluster server URL and token (bosun:service needs them). */
  cluster?: { url: string; token?: string };
  /** Extra labels on every task container (tests label what they make). */
  labels?: Record<string, string>;
  /** Remove task containers once their results are committed (default true). */
  remove?: boolean;
  /** Executors on several engines sharing one store: task starts are claimed in the run ledger (task-ledger.ts). */
  taskLedger?: TaskLedgerDeps;
  /** bosun:run task starts count against their execution's starter's run quotas. */
  quotas?: RunQuotas;
}

export function buildTaskRunners(d: RunnerDeps): Record<string, TaskRunner> {
  const guard = (r: TaskRunner): TaskRunner => (d.taskLedger ? new LedgerGuardedRunner(r, d.taskLedger) : r);
  return {
    'bosun:run': guard(new RunTaskRunner({
      engine: d.engine, policy: d.policy, log: d.log,
      ...(d.clock ? { clock: d.clock } : {}), ...(d.labels ? { labels: d.labels } : {}), ...(d.remove !== undefined ? { remove: d.remove } : {}),
      ...(d.quotas ? { quotas: d.quotas } : {}),
    })),
    'bosun:publish': new PublishTaskRunner(d.transport, d.policy),
    'bosun:stack': new StackTaskRunner({ engine: d.engine, policy: d.policy, log: d.log, ...(d.clock ? { clock: d.clock } : {}), ...(d.labels ? { labels: d.labels } : {}) }),
    'bosun:service': new ServiceTaskRunner({ ...(d.cluster ? { cluster: d.cluster } : {}), ...(d.clock ? { clock: d.clock } : {}) }),
  };
}
