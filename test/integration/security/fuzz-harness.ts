/**
 * The agent fuzzer (shared by fuzz.test.ts and bench/fuzz.bench.ts): a seeded generator of
 * messages for every channel the agent consumes — valid-ish, malformed, crash and poison
 * shapes — sent to a real agent process, then every message is accounted for: exactly one
 * reply on its reply_to, at most one errors-queue record (exactly one for each rejection),
 * nothing left queued, the process alive and its memory bounded.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { LABEL } from '../../../src/domain/labels.js';
import type { InboundMessage } from '../../../src/ports/transport.js';
import { AMQP_URL, TestClient, spawnAgent, stopChild, tempDir } from '../../helpers/agent.js';
import { TEST_IMAGE } from '../../helpers/docker.js';

export const CHANNELS = [
  'start_container.create', 'start_container.response_channel', 'start_containers_not_running', 'monitor_container_status', 'close_container',
  'stop_container', 'restart_container', 'remove_container', 'container_status', 'dispatch', 'stack',
] as const;

/** mulberry32: small, seeded, good enough to pick shapes. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FuzzMessage {
  id: string;
  channel: string;
  body: Buffer;
  kind: string;
}

const CRASH_NAMES = ['x/..', '..', '.', 'a/../../b', '../../containers/json', 'x/../..', '/', 'a//b', '%2e%2e', 'x\u0000y', 'x?all=1', 'x#y'];
const CRASH_IMAGES = ['a/../../b', '../x', 'a//b', 'x/', ':latest', 'a/./b', 'UPPER/Case', 'x@sha256:zz', 'a b'];

export function generate(n: number, seed: number, runId: string, maxBodyBytes: number): FuzzMessage[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const str = (len: number) => Array.from({ length: len }, () => String.fromCharCode(32 + Math.floor(r() * 95))).join('');
  const labels = { [LABEL.test]: runId };
  const out: FuzzMessage[] = [];
  let realRuns = 0;
  for (let i = 0; i < n; i++) {
    const id = `fz-${runId}-${i}`;
    let channel: string = pick(CHANNELS);
    const roll = r();
    let kind: string;
    let body: Buffer;
    const json = (v: unknown) => Buffer.from(JSON.stringify(v));
    const nameField = channel === 'dispatch' ? 'Container' : 'name';
    if (roll < 0.15) {
      kind = 'crash';
      const bad = pick(CRASH_NAMES);
      body = channel.startsWith('start_container.') || r() < 0.3
        ? json({ image: pick(CRASH_IMAGES), response_channel: `fz-out-${runId}`, ...(channel === 'dispatch' ? { Dockercmd: 'run', Image: pick(CRASH_IMAGES) } : {}) })
        : json(channel === 'dispatch' ? { Dockercmd: pick(['stop', 'remove', 'run']), Container: bad } : { [nameField]: bad, response_channel: `fz-out-${runId}` });
    } else if (roll < 0.3) {
      kind = 'poison';
      const which = Math.floor(r() * 5);
      body = json(
        which === 0 ? { name: 'nobody', request_id: 'r'.repeat(256 + Math.floor(r() * 2000)) }
          : which === 1 ? { name: 'nobody', response_channel: 'q'.repeat(256 + Math.floor(r() * 500)) }
            : which === 2 ? { name: 'nobody', response_channel: `amq.${str(8)}` }
              : which === 3 ? { name: 'nobody', request_id: `é${'€'.repeat(90)}` }
                : { name: 'nobody', response_channel: `has space ${i}` },
      );
    } else if (roll < 0.5) {
      kind = 'malformed';
      const which = Math.floor(r() * 9);
      body = which === 0 ? Buffer.from(Array.from({ length: 1 + Math.floor(r() * 200) }, () => Math.floor(r() * 256)))
        : which === 1 ? Buffer.from(`{"name": "${str(20)}`)
          : which === 2 ? Buffer.alloc(0)
            : which === 3 ? Buffer.from(pick(['[]', '1', '"x"', 'null', 'true', '[{"name":"x"}]']))
              : which === 4 ? Buffer.from(`{name: '${str(10).replace(/'/g, '')}', unknown_field: 1}`)
                : which === 5 ? Buffer.from('['.repeat(5000) + ']'.repeat(5000))
                  : which === 6 ? Buffer.from(`{"name": ${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}}`)
                    : which === 7 ? Buffer.from(`{x: '${'y'.repeat(70 * 1024)}'`)
                      : Buffer.from(JSON.stringify({ name: r() < 0.5 ? 42 : ['x'], timeout: 'soon', force: 'yes' }));
    } else if (roll < 0.505) {
      kind = 'oversized';
      body = Buffer.alloc(maxBodyBytes + 1 + Math.floor(r() * 1024), 0x20);
    } else if (roll < 0.51 && realRuns < Math.max(5, n / 200)) {
      kind = 'run';
      realRuns++;
      if (channel !== 'dispatch') channel = 'start_container.response_channel';
      body = channel === 'dispatch'
        ? json({ Dockercmd: 'run', Image: TEST_IMAGE, Cmd: ['echo', 'fz'], Options: { Attach: ['STDOUT'], Remove: true } })
        : json({ image: TEST_IMAGE, command: 'echo fz', response_channel: `fz-out-${runId}`, labels });
    } else {
      kind = 'cheap';
      const missing = `fz-missing-${runId}-${i}`;
      body = json(
        channel === 'dispatch' ? { Dockercmd: pick(['stop', 'remove']), Container: missing }
          : channel === 'stack' ? { action: pick(['up', 'down', 'status', 'nope']), stack: `fz${i}`, options: r() < 0.5 ? {} : { bogus: 1 } }
            : channel === 'monitor_container_status' ? { name: missing, response_channel: `fz-out-${runId}`, interval: 1 }
              : channel.startsWith('start_container.') ? { image: `fz-absent-${runId}:x`, pull: 'never', response_channel: `fz-out-${runId}`, labels }
                : { name: missing, ...(r() < 0.3 ? { request_id: `rq-${id}` } : {}) },
      );
    }
    out.push({ id, channel, body, kind });
  }
  return out;
}

export interface FuzzReport {
  sent: number;
  seconds: number;
  byKind: Record<string, number>;
  replies: number;
  parked: number;
  /** Messages without exactly one reply, or parked more than once, or rejected without a record. */
  unaccounted: string[];
  leftQueued: Record<string, number>;
  rssStartMb: number;
  rssEndMb: number;
  rssPeakMb: number;
  alive: boolean;
  uncaught: boolean;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `n` messages through a fresh agent process and accounts for each. */
export async function fuzz(o: { n: number; seed: number; runId: string; maxBodyBytes?: number; timeoutMs?: number; window?: number }): Promise<FuzzReport> {
  const maxBodyBytes = o.maxBodyBytes ?? 256 * 1024;
  const errorsQueue = `bosun.errors.fuzz-${o.runId}`;
  const replyQueue = `fz-replies-${o.runId}`;
  const client = await TestClient.connect();
  const agent: ChildProcess = await spawnAgent(
    ['--errors-queue', errorsQueue, '--max-attempts', '2', '--max-body-bytes', String(maxBodyBytes), '--concurrency', '8'],
    { BOSUN_STATE_DIR: tempDir('fuzz'), BOSUN_BROKER_URL: AMQP_URL },
  );
  let output = '';
  agent.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-1_000_000)));
  agent.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-1_000_000)));
  const replies = new Map<string, Record<string, unknown>[]>();
  const records = new Map<string, Record<string, unknown>[]>();
  const add = (into: Map<string, Record<string, unknown>[]>, key: string | undefined, v: Record<string, unknown>) => {
    const k = key ?? '?';
    into.set(k, [...(into.get(k) ?? []), v]);
  };
  const parse = (m: InboundMessage): Record<string, unknown> => JSON.parse(m.body.toString('utf8')) as Record<string, unknown>;
  const subs = [
    await client.transport.consume(replyQueue, async (m) => {
      add(replies, m.correlationId, parse(m));
      await m.ack();
    }, { prefetch: 200 }),
    await client.transport.consume(errorsQueue, async (m) => {
      const rec = parse(m);
      add(records, (rec.headers as Record<string, string> | undefined)?.['x-fuzz-id'], rec);
      await m.ack();
    }, { prefetch: 200 }),
  ];
  const sink = await client.transport.consume(`fz-out-${o.runId}`, async (m) => m.ack(), { prefetch: 200 });
  const messages = generate(o.n, o.seed, o.runId, maxBodyBytes);
  const byKind: Record<string, number> = {};
  for (const m of messages) byKind[m.kind] = (byKind[m.kind] ?? 0) + 1;
  const rssStartMb = rssMb(agent.pid ?? 0);
  let rssPeakMb = rssStartMb;
  const t0 = performance.now();
  // A bounded window of messages in flight, so the run measures the agent, not a broker backlog.
  const window = o.window ?? 64;
  let sent = 0;
  const answered = () => replies.size;
  for (const m of messages) {
    const stuckSince = Date.now();
    while (sent - answered() >= window && Date.now() - stuckSince < 30_000 && agent.exitCode === null) await sleep(5);
    await client.transport.publish(m.channel, m.body, { messageId: m.id, correlationId: m.id, replyTo: replyQueue, headers: { 'x-fuzz-id': m.id } });
    sent++;
    if (sent % 200 === 0) rssPeakMb = Math.max(rssPeakMb, rssMb(agent.pid ?? 0));
  }
  const deadline = Date.now() + (o.timeoutMs ?? 120_000);
  while (answered() < messages.length && Date.now() < deadline && agent.exitCode === null) await sleep(50);
  // Records are published before replies; a short settle catches any duplicate.
  await sleep(1000);
  const seconds = (performance.now() - t0) / 1000;
  const rssEndMb = agent.exitCode === null ? rssMb(agent.pid ?? 0) : 0;
  rssPeakMb = Math.max(rssPeakMb, rssEndMb);
  const unaccounted: string[] = [];
  for (const m of messages) {
    const rs = replies.get(m.id) ?? [];
    const ps = records.get(m.id) ?? [];
    const reply = rs[0];
    const rejected = reply !== undefined && reply.ok === false && (reply.error as { code?: string } | undefined)?.code !== 'nonzero_exit' && ps.length > 0;
    if (rs.length !== 1) unaccounted.push(`${m.id} (${m.kind} on ${m.channel}): ${rs.length} replies`);
    else if (ps.length > 1) unaccounted.push(`${m.id} (${m.kind}): parked ${ps.length} times`);
    else if (reply?.ok === false && ps.length === 0 && m.kind !== 'run') unaccounted.push(`${m.id} (${m.kind}): rejected (${JSON.stringify(reply.error)}) but not parked`);
    else if (rejected && (ps[0]?.error as { code?: string }).code !== (reply.error as { code?: string }).code) unaccounted.push(`${m.id}: reply and record disagree`);
  }
  const leftQueued: Record<string, number> = {};
  for (const ch of CHANNELS) {
    const d = await client.transport.depth(ch);
    if (d > 0) leftQueued[ch] = d;
  }
  const alive = agent.exitCode === null && agent.signalCode === null;
  const uncaught = /uncaught|unhandled/i.test(output);
  for (const s of [...subs, sink]) await s.cancel();
  // A graceful stop (its in-flight work gets 30 s); one that never comes is killed and reported.
  const stopped = (await stopChild(agent, 60_000)) === 'stopped';
  for (const q of [errorsQueue, replyQueue, `fz-out-${o.runId}`]) await (client.transport as unknown as { deleteChannel?: (c: string) => Promise<void> }).deleteChannel?.(q).catch(() => undefined);
  await client.close();
  if (!stopped) throw new Error('the fuzzed agent did not stop within 60 s of SIGTERM');
  let parkedTotal = 0;
  for (const v of records.values()) parkedTotal += v.length;
  let replyTotal = 0;
  for (const v of replies.values()) replyTotal += v.length;
  return { sent, seconds, byKind, replies: replyTotal, parked: parkedTotal, unaccounted, leftQueued, rssStartMb, rssEndMb, rssPeakMb, alive, uncaught };
}
