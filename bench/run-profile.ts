/**
 * Profile of one run, message → reply (issue 11): an agent in this process, every Engine API
 * request it makes and every publish it does timed against the moment the client sent the
 * message. Prints, per phase, the median start and end (ms after the send) over the runs, so
 * the gaps between engine calls (bosun's own time) and the calls that need not be on the path
 * show. Not part of `npm run bench` (no ratio); a tool for finding where the time goes.
 * Run: BENCH_PROFILE_MODE=warm|cold bash scripts/bench.sh bench/run-profile.ts   (BENCH_LATENCY_N, default 20)
 */
import Modem from 'docker-modem';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAgentProcess } from '../src/app/agent-process.js';
import { LABEL } from '../src/domain/labels.js';
import { silentLogger } from '../src/util/log.js';
import { TEST_IMAGE, newRunId, removeTestContainers, testEngine } from '../test/helpers/docker.js';
import { AMQP_URL, TestClient, tempDir } from '../test/helpers/agent.js';
import { quietHost } from './lifecycle.js';

interface Span { what: string; start: number; end: number }
let trace: Span[] = [];
let t0 = 0;
const since = () => performance.now() - t0;

type Dial = (options: { method?: string; path?: string; hijack?: boolean }, cb: (err: unknown, data: unknown) => void) => unknown;
const proto = (Modem as unknown as { prototype: { dial: Dial } }).prototype;
const dial = proto.dial;
proto.dial = function (this: unknown, options, cb) {
  // Paths carry ids and query strings: keep the verb and the shape.
  const what = `${options.method ?? 'GET'} ${(options.path ?? '').split('?')[0]!.replace(/\/containers\/(?!json$)[^/]+/, '/containers/{id}').replace(/\/exec\/[^/]+/, '/exec/{id}')}`;
  const span = { what, start: since(), end: -1 };
  trace.push(span);
  return dial.call(this, options, (err, data) => {
    span.end = since();
    cb(err, data);
  });
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function main(): Promise<void> {
  const mode = (process.env.BENCH_PROFILE_MODE ?? process.argv[2]) === 'cold' ? 'cold' : 'warm';
  const n = Number(process.env.BENCH_LATENCY_N ?? 20);
  // BENCH_PROFILE_CHANNEL=dispatch: seed 003's run, replied on reply_to only (its pool matches by image alone).
  const dispatch = process.env.BENCH_PROFILE_CHANNEL === 'dispatch';
  // BENCH_PROFILE_STREAM=1: live output on; BENCH_PROFILE_LINES=N: a command printing N lines instead of `echo hi`.
  const stream = process.env.BENCH_PROFILE_STREAM === '1';
  const lines = Number(process.env.BENCH_PROFILE_LINES ?? 0);
  const command = lines > 0 ? ['sh', '-c', `i=0; while [ $i -lt ${lines} ]; do echo "line $i"; i=$((i+1)); done`] : ['echo', 'hi'];
  const expected = lines > 0 ? Array.from({ length: lines }, (_, i) => `line ${i}\n`).join('') : 'hi\n';
  const runId = newRunId();
  const labels = { [LABEL.test]: runId };
  const engine = testEngine();
  const dir = tempDir('run-profile');
  const poolsFile = join(dir, 'pools.yaml');
  writeFileSync(poolsFile, `pools:\n  - name: prof\n    image: ${TEST_IMAGE}\n    size: 2\n${dispatch ? '' : `    match:\n      labels: { ${LABEL.test}: ${runId} }\n`}`);
  const proc = await startAgentProcess({ brokerUrl: AMQP_URL, concurrency: 8, stateDir: tempDir('run-profile-state'), name: `prof-${runId}`, log: silentLogger, ...(mode === 'warm' ? { poolsFile } : {}) });
  const publish = proc.transport.publish.bind(proc.transport);
  proc.transport.publish = async (channel, body, opts) => {
    const span = { what: `publish ${channel.startsWith('bosun.reply.') ? 'reply_to' : channel.startsWith('prof-') ? 'response_channel' : channel}`, start: since(), end: -1 };
    trace.push(span);
    try {
      return await publish(channel, body, opts);
    } finally {
      span.end = since();
    }
  };
  const client = await TestClient.connect();
  const replyTo = `bosun.reply.${randomUUID()}`;
  const waiting = new Map<string, (body: Record<string, unknown>) => void>();
  const inbox = await client.transport.consume(replyTo, async (m) => {
    await m.ack();
    const body = JSON.parse(m.body.toString('utf8')) as Record<string, unknown>;
    // Live output chunks come on the same path; the envelope is the one with `ok`.
    if ('ok' in body) waiting.get(m.correlationId ?? '')?.(body);
  }, { prefetch: 10, ephemeral: true });
  const sink = await client.collect(`prof-${runId}-sink`);
  const poolIdle = async () => (await engine.containers.list({ labels: { [LABEL.poolOwner]: `prof-${runId}`, [LABEL.pool]: 'prof' } })).filter((c) => c.name.startsWith('bosun-pool-')).length;
  const busy = async () => (await engine.containers.list({ all: true, labels: dispatch ? { [LABEL.poolOwner]: `prof-${runId}` } : { ...labels, [LABEL.run]: 'attached' } })).filter((c) => !c.name.startsWith('bosun-pool-')).length;
  const runs: Span[][] = [];
  const totals: number[] = [];
  try {
    for (let i = 0; totals.length < n; i++) {
      while ((mode === 'warm' && (await poolIdle()) < 2) || (await busy()) > 0) await new Promise((r) => setTimeout(r, 50));
      await quietHost();
      const cid = randomUUID();
      const replied = new Promise<Record<string, unknown>>((resolve) => waiting.set(cid, resolve));
      trace = [];
      t0 = performance.now();
      const [channel, body] = dispatch
        ? ['dispatch', { Dockercmd: 'run', Image: TEST_IMAGE, Cmd: ['echo', 'hi'], Options: { Attach: ['STDOUT', 'STDERR'], Remove: true } }]
        : ['start_container.response_channel', { image: TEST_IMAGE, command, response_channel: `prof-${runId}-sink`, labels, warm: mode === 'warm', ...(stream ? { stream } : {}) }];
      await client.transport.publish(channel, JSON.stringify(body), { replyTo, correlationId: cid });
      const sent = since();
      const r = await replied;
      const total = since();
      waiting.delete(cid);
      if (r.ok !== true || r.stdout !== expected) throw new Error(`run failed: ${JSON.stringify(r)}`);
      // The pool's members show as running a moment before the pool counts them: such a run went cold, and is not counted.
      if (i < 2 || (mode === 'warm') !== (r.warm === true)) continue; // warm-up
      totals.push(total);
      runs.push([{ what: 'client publish (confirmed)', start: 0, end: sent }, ...trace.filter((s) => s.start <= total)]);
    }
    if (process.env.BENCH_DEBUG) for (const r of runs.slice(0, 3)) console.log(r.map((s) => `  ${s.what} ${s.start.toFixed(1)}→${s.end.toFixed(1)}`).join('\n') + '\n--');
    console.log(`${mode} run, n=${n}: message → reply median ${median(totals).toFixed(1)} ms; spans (median start → end, ms after the send; calls after the reply omitted):`);
    // Spans by their order within a run (the same path gives the same sequence).
    const seq = runs[0]!.map((s) => s.what);
    for (let k = 0; k < seq.length; k++) {
      const same = runs.filter((r) => r[k]?.what === seq[k]);
      console.log(`  ${seq[k]!.padEnd(44)} ${median(same.map((r) => r[k]!.start)).toFixed(1).padStart(7)} → ${median(same.map((r) => r[k]!.end)).toFixed(1).padStart(7)}  (${same.length}/${runs.length})`);
    }
  } finally {
    await inbox.cancel();
    await sink.stop();
    await client.close();
    await proc.stop();
    await removeTestContainers(engine, runId);
  }
}

await main();
