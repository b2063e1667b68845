/**
 * Runs a real agent (in-process, or as a child process for crash tests) against the real
 * broker and engine, plus a tiny client to send messages and collect replies.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from '../../src/adapters/transport-factory.js';
import { startAgentProcess, type AgentProcess } from '../../src/app/agent-process.js';
import type { InboundMessage, Transport } from '../../src/ports/transport.js';
import { silentLogger, type Logger } from '../../src/util/log.js';
import { within } from './docker.js';

export const AMQP_URL = process.env.BOSUN_TEST_AMQP ?? 'amqp://guest:guest@127.0.0.1:5672';
export const REDIS_URL = process.env.BOSUN_TEST_REDIS ?? 'redis://127.0.0.1:6379';

/**
 * True when none of these RabbitMQ queues (in the test run's vhost) holds a message, ready or
 * delivered but unacked: nothing is left that could still produce a late reply. Tests wait for
 * this instead of sleeping before they count replies.
 */
export function queuesSettled(queues: string[], url = AMQP_URL): boolean {
  // Synchronous, so no timer of the test's could end it: rabbitmqctl gets a bound of its own.
  const vhost = decodeURIComponent(new URL(url).pathname.slice(1)) || '/';
  const out = execFileSync('rabbitmqctl', ['-q', '--no-table-headers', 'list_queues', '-p', vhost, 'name', 'messages_ready', 'messages_unacknowledged'], { encoding: 'utf8', timeout: 30_000 });
  const counts = new Map(out.trim().split('\n').filter(Boolean).map((l) => {
    const [name = '', ready = '0', unacked = '0'] = l.split('\t');
    return [name, Number(ready) + Number(unacked)] as const;
  }));
  return queues.every((q) => (counts.get(q) ?? 0) === 0);
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `bosun-${prefix}-`));
}

export async function startTestAgent(
  o: { broker?: string; stateDir?: string; checkpointMs?: number; http?: string; policyFile?: string; poolsFile?: string; dockerHost?: string; errorsChannel?: string; poolSweepMs?: number; log?: Logger } = {},
): Promise<AgentProcess> {
  const proc = await startAgentProcess({
    brokerUrl: o.broker ?? AMQP_URL,
    concurrency: 4,
    log: o.log ?? silentLogger,
    ...(o.poolSweepMs !== undefined ? { poolSweepMs: o.poolSweepMs } : {}),
    stateDir: o.stateDir ?? tempDir('state'),
    ...(o.checkpointMs ? { checkpointMs: o.checkpointMs } : {}),
    ...(o.http ? { http: o.http } : {}),
    ...(o.policyFile ? { policyFile: o.policyFile } : {}),
    ...(o.poolsFile ? { poolsFile: o.poolsFile } : {}),
    ...(o.dockerHost ? { dockerHost: o.dockerHost } : {}),
    ...(o.errorsChannel ? { errorsChannel: o.errorsChannel } : {}),
  });
  // Bounded (the agent's own shutdown grace is 30 s): a stop that never ends fails naming itself in
  // the test's after hook or finally, not as the whole file's timeout.
  const stop = proc.stop.bind(proc);
  proc.stop = () => within(stop(), AGENT_STOP_BOUND_MS, 'the test agent stopping');
  return proc;
}

const AGENT_STOP_BOUND_MS = 90_000;

/**
 * Sends `signal` to a child and resolves once it exited — at once when it already had (its 'exit'
 * then never comes again), failing after `ms` rather than hanging.
 */
export async function killChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL', ms = 30_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  let timer: NodeJS.Timeout | undefined;
  const exited = new Promise<void>((resolve, reject) => {
    child.once('exit', () => resolve());
    timer = setTimeout(() => reject(new Error(`pid ${child.pid} did not exit within ${ms} ms of ${signal}`)), ms);
  });
  child.kill(signal);
  await exited.finally(() => clearTimeout(timer));
}

/**
 * SIGTERM, then SIGKILL if `child` is still there after `graceMs`; says which ended it, and throws
 * only if even SIGKILL does not (nothing to do for a child an after hook never got).
 */
export async function stopChild(child: ChildProcess | undefined, graceMs = 15_000): Promise<'stopped' | 'killed'> {
  if (!child) return 'stopped';
  try {
    await killChild(child, 'SIGTERM', graceMs);
    return 'stopped';
  } catch {
    await killChild(child, 'SIGKILL');
    return 'killed';
  }
}

const repoRoot = join(import.meta.dirname, '..', '..');

/** `bosun agent` as a child process (so a test can SIGKILL it). Resolves once it logs "ready". */
export async function spawnAgent(args: string[], env: Record<string, string> = {}, readyTimeoutMs = 30_000): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/app/cli.ts'), 'agent', ...args], {
    cwd: repoRoot,
    // At info or chattier whatever the caller's shell says: readiness is its "ready" line (info).
    env: { ...process.env, BOSUN_LOG_LEVEL: ['trace', 'debug'].includes(process.env.BOSUN_LOG_LEVEL ?? '') ? process.env.BOSUN_LOG_LEVEL : 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    // Killed, not left running: it would consume from this run's vhost under later files.
    const t = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`agent did not start within ${readyTimeoutMs} ms: ${out}`))), readyTimeoutMs);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('"msg":"ready"')) {
        clearTimeout(t);
        resolve();
      }
    });
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => reject(new Error(`agent exited with ${code}: ${out}`)));
  });
  return child;
}

export class TestClient {
  private constructor(readonly transport: Transport) {}

  static async connect(url = AMQP_URL): Promise<TestClient> {
    const t = await createTransport(url, silentLogger);
    await t.connect();
    return new TestClient(t);
  }

  /** Collects every message arriving on `channel` (durable) until close. */
  async collect(channel: string, ephemeral = false): Promise<{ messages: InboundMessage[]; bodies: () => string[]; json: () => Record<string, unknown>[]; stop: () => Promise<void> }> {
    const messages: InboundMessage[] = [];
    const sub = await this.transport.consume(channel, async (m) => {
      messages.push(m);
      await m.ack();
    }, { prefetch: 50, ephemeral });
    return {
      messages,
      bodies: () => messages.map((m) => m.body.toString('utf8')),
      json: () => messages.map((m) => JSON.parse(m.body.toString('utf8')) as Record<string, unknown>),
      stop: () => sub.cancel(),
    };
  }

  /** Sends and waits for the reply envelope on a private reply queue. */
  async request(channel: string, body: unknown, opts: { timeoutMs?: number; messageId?: string } = {}): Promise<Record<string, unknown>> {
    const replyTo = `bosun.reply.${randomUUID()}`;
    const inbox = await this.collect(replyTo, true);
    try {
      await this.transport.publish(channel, typeof body === 'string' ? body : JSON.stringify(body), {
        replyTo,
        correlationId: randomUUID(),
        ...(opts.messageId ? { messageId: opts.messageId } : {}),
      });
      const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
      while (inbox.messages.length === 0) {
        if (Date.now() > deadline) throw new Error(`no reply on ${channel} for ${JSON.stringify(body)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return inbox.json()[0] as Record<string, unknown>;
    } finally {
      await inbox.stop();
    }
  }

  send(channel: string, body: unknown, messageId?: string): Promise<void> {
    return this.transport.publish(channel, typeof body === 'string' ? body : JSON.stringify(body), messageId ? { messageId } : {});
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}
