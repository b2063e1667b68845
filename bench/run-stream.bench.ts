/**
 * Live output cost (issue 11): the same attached cold run with `stream: true` against `stream: false`
 * (the reference, measured in the same run, interleaved), through a real agent:
 *  1. a short command (`echo hi`): median message → final reply, ratio stream ÷ plain;
 *  2. a command printing 2,000 lines quickly: the same ratio, plus the chunks received (count,
 *     bytes, in order: seq 0..n-1, data concatenated == the reply's stdout) and the time to the
 *     first chunk against the time to the final reply.
 * Run: node --import tsx bench/run-stream.bench.ts   (needs Docker, RabbitMQ, the test image; BENCH_STREAM_N, default 10)
 */
import { RpcClient } from './rpc.js';
import { LABEL } from '../src/domain/labels.js';
import { TEST_IMAGE, newRunId, removeTestContainers, testEngine } from '../test/helpers/docker.js';
import { AMQP_URL, TestClient, spawnAgent, tempDir } from '../test/helpers/agent.js';

const engine = testEngine();
const runId = newRunId();
const labels = { [LABEL.test]: runId };
const N = Number(process.env.BENCH_STREAM_N ?? 10);
const LINES = 2000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const sink = `sbench-${runId}-sink`;

const SHORT = ['echo', 'hi'];
// busybox sh: no seq needed, and the output comes over a few tens of ms (more than one chunk window).
const MANY = ['sh', '-c', `i=0; while [ $i -lt ${LINES} ]; do echo "line $i"; i=$((i+1)); done`];
const MANY_STDOUT = Array.from({ length: LINES }, (_, i) => `line ${i}\n`).join('');

interface Chunk {
  seq: number;
  stream?: string;
  data?: string;
  truncated?: boolean;
  at: number;
}

interface Timed {
  ms: number;
  firstChunkMs?: number;
  chunks: Chunk[];
  reply: Record<string, unknown>;
}

/** One run, message → final envelope; the chunks before it are kept with their arrival time. */
async function once(rpc: RpcClient, command: string[], stream: boolean): Promise<Timed> {
  const chunks: Chunk[] = [];
  const t0 = performance.now();
  const reply = await rpc.request('start_container.response_channel', { image: TEST_IMAGE, command, response_channel: sink, labels, warm: false, stream }, {
    timeoutMs: 120_000,
    until: (m) => {
      if ('ok' in m) return true;
      chunks.push({ ...(m as Omit<Chunk, 'at'>), at: performance.now() - t0 });
      return false;
    },
  });
  const ms = performance.now() - t0;
  if (reply.ok !== true) throw new Error(`run failed: ${JSON.stringify(reply)}`);
  return { ms, chunks, reply, ...(chunks[0] ? { firstChunkMs: chunks[0].at } : {}) };
}

/** The stream's promises: seq 0..n-1 in arrival order, stdout data concatenated == the reply's stdout, the envelope's count. */
function checkStream(r: Timed, stdout: string): string | undefined {
  const { chunks, reply } = r;
  if (chunks.some((c, i) => c.seq !== i)) return `out of order: ${chunks.map((c) => c.seq).join(',')}`;
  const data = chunks.filter((c) => c.stream === 'stdout').map((c) => c.data ?? '').join('');
  if (data !== stdout || reply.stdout !== stdout) return `data ${data.length} chars, reply stdout ${String(reply.stdout).length}, expected ${stdout.length}`;
  const s = reply.streamed as { chunks: number; bytes: number; truncated: boolean } | undefined;
  if (!s || s.chunks !== chunks.length || s.bytes !== Buffer.byteLength(data) || s.truncated) return `envelope streamed ${JSON.stringify(s)} vs ${chunks.length} chunks`;
  return undefined;
}

async function pair(rpc: RpcClient, command: string[], stdout: string): Promise<{ plain: number[]; stream: Timed[]; bad: string[] }> {
  const plain: number[] = [];
  const stream: Timed[] = [];
  const bad: string[] = [];
  for (let i = 0; i < N; i++) {
    // Interleaved, alternating which goes first: a drift of the shared machine hits both alike.
    const order = i % 2 === 0 ? [false, true] : [true, false];
    for (const s of order) {
      const r = await once(rpc, command, s);
      if (r.reply.stdout !== stdout) bad.push(`stdout ${JSON.stringify(String(r.reply.stdout).slice(0, 40))}`);
      if (!s) plain.push(r.ms);
      else {
        stream.push(r);
        const why = checkStream(r, stdout);
        if (why) bad.push(why);
      }
    }
  }
  return { plain, stream, bad };
}

async function main(): Promise<void> {
  const agent = await spawnAgent(['--concurrency', '4'], { BOSUN_STATE_DIR: tempDir('sbench'), BOSUN_BROKER_URL: AMQP_URL });
  const client = await TestClient.connect();
  const rpc = await RpcClient.open(client);
  const replies = await client.collect(sink);
  try {
    for (let i = 0; i < 2; i++) for (const s of [false, true]) await once(rpc, SHORT, s);
    const f = (x: number) => x.toFixed(0);

    const a = await pair(rpc, SHORT, 'hi\n');
    const aChunks = median(a.stream.map((r) => r.chunks.length));
    console.log(`short (echo hi, n=${N}): medians stream ${f(median(a.stream.map((r) => r.ms)))} ms, plain ${f(median(a.plain))} ms; ${aChunks} chunk(s) per run; ${a.bad.length} bad`);
    console.log(`short stream / plain: ${(median(a.stream.map((r) => r.ms)) / median(a.plain)).toFixed(2)}`);

    const b = await pair(rpc, MANY, MANY_STDOUT);
    const streamMs = median(b.stream.map((r) => r.ms));
    const first = median(b.stream.flatMap((r) => (r.firstChunkMs === undefined ? [] : [r.firstChunkMs])));
    const chunks = b.stream.map((r) => r.chunks.length);
    console.log(`${LINES} lines (${Buffer.byteLength(MANY_STDOUT)} bytes, n=${N}): medians stream ${f(streamMs)} ms, plain ${f(median(b.plain))} ms; chunks per run min ${Math.min(...chunks)} median ${median(chunks)} max ${Math.max(...chunks)}; ${b.bad.length ? `${b.bad.length} problem(s) (order, completeness or a failed run)` : 'every stream in order and complete'}${b.bad.length ? ` (${b.bad.slice(0, 3).join('; ')})` : ''}`);
    console.log(`${LINES} lines stream / plain: ${(streamMs / median(b.plain)).toFixed(2)}`);
    console.log(`${LINES} lines first chunk / final reply (stream): ${f(first)} ms / ${f(streamMs)} ms: ${(first / streamMs).toFixed(2)}`);
    if (a.bad.length || b.bad.length) process.exitCode = 1;
  } finally {
    await rpc.close();
    await replies.stop();
    await client.close();
    agent.kill('SIGTERM');
    await new Promise((r) => agent.once('exit', r));
    const left = (await engine.containers.list({ all: true, labels })).length;
    console.log(`after shutdown: ${left} containers left`);
    await removeTestContainers(engine, runId);
  }
}

await main();
