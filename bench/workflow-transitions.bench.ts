/**
 * Durable transitions per second on PGlite and PostgreSQL. A chain of 1,000 Pass states and one
 * of 200 `Wait Seconds: 0` states are each one decision and one commit (the machine runs states
 * that wait for nothing inside one decision; ~2,000 history events in one transaction). A chain
 * where every state is its own committed transaction: 200 Task states on an in-process
 * runner that answers at once (per state: the schedule commit, the report posted, the report's
 * commit): the executor's and the store's cost per task.
 * Run: node --import tsx bench/workflow-transitions.bench.ts
 */
import type { Definition } from '../src/workflow/definition.js';
import { DurableExecutor } from '../src/workflow/durable/executor.js';
import type { TaskRunner } from '../src/workflow/durable/tasks.js';
import type { ExecutionRecord } from '../src/ports/workflow-store.js';
import { startExecution } from '../src/workflow/durable/start.js';
import { BACKENDS, openTestStore } from '../test/integration/workflow/stores.js';

function chain(n: number, state: (next: string | null) => object): Definition {
  const States: Record<string, object> = {};
  for (let i = 0; i < n; i++) States[`S${i}`] = state(i + 1 < n ? `S${i + 1}` : null);
  return { StartAt: 'S0', States } as unknown as Definition;
}
const end = (next: string | null) => (next ? { Next: next } : { End: true });

for (const backend of BACKENDS) {
  const { store, close } = await openTestStore(backend);
  const echo: TaskRunner = { run: async (ctx) => ({ ok: true, output: ctx.command.input }) };
  const ended = new Map<string, (r: ExecutionRecord) => void>();
  // The end is reported by the executor, not polled for: a poll would compete for the store.
  const ex = new DurableExecutor({ store, owner: 'bench', runners: { 'bench:echo': echo }, pollMs: 20, onEnd: (r) => ended.get(r.id)?.(r) });
  ex.start();
  try {
    for (const [label, def, n] of [
      ['1,000 Pass', chain(1000, (next) => ({ Type: 'Pass', ...end(next) })), 1000],
      ['200 Wait 0 s', chain(200, (next) => ({ Type: 'Wait', Seconds: 0, ...end(next) })), 200],
      ['200 Task (1 commit each)', chain(200, (next) => ({ Type: 'Task', Resource: 'bench:echo', ...end(next) })), 200],
    ] as const) {
      const t0 = performance.now();
      const { record } = await startExecution(store, { definition: def, input: { x: 1 } });
      const done = await new Promise<ExecutionRecord>((resolve) => { ended.set(record.id, resolve); ex.kick(); });
      const ms = performance.now() - t0;
      const hist = await store.history(record.id);
      console.log(`${backend}\t${label}\t${done.status}\t${ms.toFixed(0)} ms\t${((n / ms) * 1000).toFixed(0)} transitions/s\t${hist.length} history events`);
    }
  } finally {
    await ex.stop();
    await close();
  }
}
