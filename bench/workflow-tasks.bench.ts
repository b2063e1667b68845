/**
 * Workflow overhead on real containers (issue 10), each against the same `bosun:run` runs done
 * straight through the same RunTaskRunner in the same run (no executor, no store):
 *  1. a Map of 100 container tasks with MaxConcurrency 10 ÷ the 100 runs at concurrency 10;
 *  2. a 5-task sequence ÷ the sum of its 5 bare runs (one after another).
 * Every run is `echo` in the busybox test image, its container removed once its result is in;
 * each pair is measured alternately, reference first, and the ratios of the medians are printed.
 * Run: node --import tsx bench/workflow-tasks.bench.ts   (needs Docker, PostgreSQL for `postgres`)
 */
import { LABEL } from '../src/domain/labels.js';
import { DEFAULT_POLICY } from '../src/domain/policy.js';
import type { ExecutionRecord } from '../src/ports/workflow-store.js';
import { silentLogger } from '../src/util/log.js';
import type { Definition } from '../src/workflow/definition.js';
import { DurableExecutor } from '../src/workflow/durable/executor.js';
import { RunTaskRunner } from '../src/workflow/durable/run-task.js';
import { startExecution } from '../src/workflow/durable/start.js';
import type { TaskOutcome } from '../src/workflow/durable/tasks.js';
import { newRunId, removeTestContainers, TEST_IMAGE, testEngine } from '../test/helpers/docker.js';
import { BACKENDS, openTestStore, type Backend } from '../test/integration/workflow/stores.js';
import { burst } from './burst.js';

const MAP_N = Number(process.env.BENCH_WF_MAP_N ?? 100);
const WIDTH = 10;
const SEQ_N = 5;
const ROUNDS = Number(process.env.BENCH_WF_ROUNDS ?? 3);
const backends = (process.env.BENCH_WF_BACKENDS?.split(',') ?? [...BACKENDS]) as Backend[];

const engine = testEngine();
const runId = newRunId();
const runner = new RunTaskRunner({ engine, policy: DEFAULT_POLICY, log: silentLogger, labels: { [LABEL.test]: runId } });
const params = { image: TEST_IMAGE, command: ['echo', '{"ok":true}'], pull: 'never' };
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

let bareSeq = 0;
/** One run as the executor would make it, then its container removed (the executor does that after the report). */
async function bareRun(): Promise<void> {
  const n = ++bareSeq;
  const never = new AbortController().signal;
  const out: TaskOutcome = await runner.run({
    executionId: `bench-bare-${runId}`, signal: never, detached: never,
    command: { type: 'ScheduleTask', token: `t${n}`, resource: 'bosun:run', parameters: params, input: {}, attempt: 1, waitForTaskToken: false, state: 'Bare' },
  });
  if ('dispatched' in out || !out.ok) throw new Error(`bare run failed: ${JSON.stringify(out)}`);
  await out.afterReport?.();
}

const task = { Type: 'Task', Resource: 'bosun:run', Parameters: params, ResultSelector: { 'ok.$': '$.json.ok' } };
const mapDef = {
  StartAt: 'Each',
  States: { Each: { Type: 'Map', MaxConcurrency: WIDTH, ItemProcessor: { StartAt: 'Run', States: { Run: { ...task, End: true } } }, End: true } },
} as unknown as Definition;
const seqStates: Record<string, object> = {};
for (let i = 0; i < SEQ_N; i++) seqStates[`T${i}`] = { ...task, ...(i + 1 < SEQ_N ? { Next: `T${i + 1}` } : { End: true }) };
const seqDef = { StartAt: 'T0', States: seqStates } as unknown as Definition;

async function main(): Promise<void> {
  try {
    for (let i = 0; i < 3; i++) await bareRun(); // warm-up: image cache, engine connection
    for (const backend of backends) {
      const { store, close } = await openTestStore(backend);
      const ended = new Map<string, (r: ExecutionRecord) => void>();
      const ex = new DurableExecutor({ store, owner: `bench-${runId}`, runners: { 'bosun:run': runner }, onEnd: (r) => ended.get(r.id)?.(r) });
      ex.start();
      const viaWorkflow = async (definition: Definition, input: unknown): Promise<number> => {
        const t0 = performance.now();
        const { record } = await startExecution(store, { definition, input: input as never });
        const done = await new Promise<ExecutionRecord>((resolve) => { ended.set(record.id, resolve); ex.kick(); });
        const ms = performance.now() - t0;
        if (done.status !== 'SUCCEEDED') throw new Error(`workflow ${done.status}: ${done.state?.error}: ${done.state?.cause}`);
        return ms;
      };
      try {
        await viaWorkflow(seqDef, {}); // warm-up of this store's statements
        const mapBare: number[] = [];
        const mapWf: number[] = [];
        const seqBare: number[] = [];
        const seqWf: number[] = [];
        for (let r = 0; r < ROUNDS; r++) {
          const b = await burst(MAP_N, WIDTH, bareRun);
          if (b.failures) throw new Error(`${b.failures} bare runs failed`);
          mapBare.push(b.seconds * 1000);
          mapWf.push(await viaWorkflow(mapDef, Array.from({ length: MAP_N }, (_, i) => ({ i }))));
          for (let k = 0; k < 3; k++) {
            const t0 = performance.now();
            for (let i = 0; i < SEQ_N; i++) await bareRun();
            seqBare.push(performance.now() - t0);
            seqWf.push(await viaWorkflow(seqDef, {}));
          }
        }
        const left = (await engine.containers.list({ all: true, labels: { [LABEL.test]: runId } })).length;
        console.log(`${backend}\tMap of ${MAP_N} bosun:run, MaxConcurrency ${WIDTH}: workflow median ${median(mapWf).toFixed(0)} ms, bare runs at concurrency ${WIDTH} ${median(mapBare).toFixed(0)} ms, ratio ${(median(mapWf) / median(mapBare)).toFixed(2)} (target <= 1.10), rounds ${ROUNDS} [${mapWf.map((x, i) => (x / mapBare[i]!).toFixed(2)).join(' ')}]`);
        console.log(`${backend}\t${SEQ_N}-task sequence: workflow median ${median(seqWf).toFixed(0)} ms, sum of ${SEQ_N} bare runs ${median(seqBare).toFixed(0)} ms, ratio ${(median(seqWf) / median(seqBare)).toFixed(2)} (target <= 1.10), n=${seqWf.length} [${seqWf.map((x, i) => (x / seqBare[i]!).toFixed(2)).join(' ')}]; leftover containers ${left}`);
      } finally {
        await ex.stop();
        await close();
      }
    }
  } finally {
    await removeTestContainers(engine, runId);
  }
}

await main();
