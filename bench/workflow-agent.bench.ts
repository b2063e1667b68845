/**
 * Workflow overhead measured through a real agent (issue 10), each against the same runs sent
 * straight to that agent over the broker in the same run:
 *  1. a Map of 100 `bosun:run` tasks with MaxConcurrency 10 (workflow.start, waiting for the end
 *     reply) ÷ the same 100 runs sent to the agent 10 at a time;
 *  2. a 5-task sequence ÷ the sum of 5 runs sent one after another.
 * Every run is `echo` in the busybox test image; pairs alternate, reference first; ratios of medians.
 * Run: node --import tsx bench/workflow-agent.bench.ts   (needs Docker, RabbitMQ; BENCH_WF_STORE=postgres://… for PostgreSQL)
 */
import { burst } from './burst.js';
import { RpcClient } from './rpc.js';
import { LABEL } from '../src/domain/labels.js';
import { TEST_IMAGE, newRunId, removeTestContainers, testEngine } from '../test/helpers/docker.js';
import { AMQP_URL, TestClient, spawnAgent, tempDir } from '../test/helpers/agent.js';

const MAP_N = Number(process.env.BENCH_WF_MAP_N ?? 100);
const WIDTH = 10;
const SEQ_N = 5;
const ROUNDS = Number(process.env.BENCH_WF_ROUNDS ?? 3);
const engine = testEngine();
const runId = newRunId();
const labels = { [LABEL.test]: runId };
const run = { image: TEST_IMAGE, command: ['echo', '{"ok":true}'], pull: 'never', labels };
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const task = { Type: 'Task', Resource: 'bosun:run', Parameters: run, ResultSelector: { 'ok.$': '$.json.ok' } };
const mapDef = { StartAt: 'Each', States: { Each: { Type: 'Map', MaxConcurrency: WIDTH, ItemProcessor: { StartAt: 'Run', States: { Run: { ...task, End: true } } }, End: true } } };
const seqStates: Record<string, object> = {};
for (let i = 0; i < SEQ_N; i++) seqStates[`T${i}`] = { ...task, ...(i + 1 < SEQ_N ? { Next: `T${i + 1}` } : { End: true }) };
const seqDef = { StartAt: 'T0', States: seqStates };

async function main(): Promise<void> {
  const store = process.env.BENCH_WF_STORE;
  const agent = await spawnAgent(['--concurrency', String(WIDTH), ...(store ? ['--store', store] : [])], { BOSUN_STATE_DIR: tempDir('bench-wf'), BOSUN_BROKER_URL: AMQP_URL });
  const client = await TestClient.connect();
  const rpc = await RpcClient.open(client);
  // Both paths reply twice, as a caller with a response channel gets: there, then on reply_to.
  const sinkChannel = `bench-${runId}-sink`;
  const sink = await client.collect(sinkChannel);
  const direct = async (): Promise<void> => {
    const r = await rpc.request('start_container.response_channel', { ...run, response_channel: sinkChannel });
    if (r.ok !== true || r.exit_code !== 0) throw new Error(`agent run failed: ${JSON.stringify(r)}`);
  };
  const viaWorkflow = async (definition: object, input: unknown): Promise<number> => {
    const t0 = performance.now();
    const end = await rpc.request('workflow.start', { definition, input, response_channel: sinkChannel }, { timeoutMs: 600_000, until: (r) => r.ok === false || typeof (r.result as { created?: unknown } | undefined)?.created !== 'boolean' });
    const ms = performance.now() - t0;
    const result = end.result as { status?: string } | undefined;
    if (result?.status !== 'SUCCEEDED') throw new Error(`workflow did not succeed: ${JSON.stringify(end).slice(0, 500)}`);
    return ms;
  };
  try {
    for (let i = 0; i < 3; i++) await direct();
    await viaWorkflow(seqDef, {}); // the embedded store is made at the first workflow message
    const mapRef: number[] = [];
    const mapWf: number[] = [];
    const seqRef: number[] = [];
    const seqWf: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const b = await burst(MAP_N, WIDTH, direct);
      if (b.failures) throw new Error(`${b.failures} runs failed`);
      mapRef.push(b.seconds * 1000);
      mapWf.push(await viaWorkflow(mapDef, Array.from({ length: MAP_N }, (_, i) => ({ i }))));
      for (let k = 0; k < 3; k++) {
        const t0 = performance.now();
        for (let i = 0; i < SEQ_N; i++) await direct();
        seqRef.push(performance.now() - t0);
        seqWf.push(await viaWorkflow(seqDef, {}));
      }
    }
    const left = (await engine.containers.list({ all: true, labels })).length;
    const kind = store ? 'postgres' : 'pglite';
    console.log(`agent/${kind}\tMap of ${MAP_N} bosun:run, MaxConcurrency ${WIDTH}: workflow median ${median(mapWf).toFixed(0)} ms, same runs sent to the agent ${WIDTH} at a time ${median(mapRef).toFixed(0)} ms, ratio ${(median(mapWf) / median(mapRef)).toFixed(2)} (target <= 1.10), rounds [${mapWf.map((x, i) => (x / mapRef[i]!).toFixed(2)).join(' ')}]`);
    console.log(`agent/${kind}\t${SEQ_N}-task sequence: workflow median ${median(seqWf).toFixed(0)} ms, ${SEQ_N} runs sent one after another ${median(seqRef).toFixed(0)} ms, ratio ${(median(seqWf) / median(seqRef)).toFixed(2)} (target <= 1.10), n=${seqWf.length} [${seqWf.map((x, i) => (x / seqRef[i]!).toFixed(2)).join(' ')}]; leftover containers ${left}`);
  } finally {
    await rpc.close();
    await sink.stop();
    await client.close();
    agent.kill('SIGTERM');
    await new Promise((r) => agent.once('exit', r));
    await removeTestContainers(engine, runId);
  }
}

await main();
