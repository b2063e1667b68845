/**
 * A durable executor as its own process, for the two-engine crash test: one PostgreSQL store,
 * its own engine, task starts claimed in the run ledger. Configured by env; logs to stdout;
 * runs until killed.
 */
import { createEngine } from '../../../src/adapters/engine-factory.js';
import { openRunLedger } from '../../../src/adapters/store-sql/run-ledger.js';
import { openWorkflowStore } from '../../../src/adapters/store-sql/workflow-store.js';
import { DEFAULT_POLICY } from '../../../src/domain/policy.js';
import { silentLogger } from '../../../src/util/log.js';
import { DurableExecutor } from '../../../src/workflow/durable/executor.js';
import { buildTaskRunners } from '../../../src/workflow/durable/runner-set.js';

const env = (k: string): string => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is required`);
  return v;
};

const store = await openWorkflowStore(env('WF_STORE'));
const ledger = await openRunLedger(env('WF_STORE'));
const kind = env('WF_ENGINE_KIND') === 'podman' ? 'podman' : 'docker';
const engine = createEngine({ kind, host: env('WF_ENGINE_HOST') });
const info = await engine.info();
const owner = env('WF_OWNER');
const leaseMs = Number(env('WF_LEASE_MS'));
const runners = buildTaskRunners({
  engine, policy: DEFAULT_POLICY, log: silentLogger, remove: false,
  labels: JSON.parse(env('WF_LABELS')) as Record<string, string>,
  taskLedger: { ledger, owner, engineId: info.id, leaseMs },
});
const executor = new DurableExecutor({ store, owner, runners, leaseMs, pollMs: 100, log: (m) => console.log(m) });
executor.start();
console.log(`ready ${owner} engine=${info.id}`);
