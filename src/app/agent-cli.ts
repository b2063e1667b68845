/**
 * `bosun agent`, `bosun send` and `bosun listen`.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import { createTransport } from '../adapters/transport-factory.js';
import { brokerUrlOf } from './env-defaults.js';
import type { InboundMessage, Transport } from '../ports/transport.js';
import { createLogger, silentLogger } from '../util/log.js';
import { startAgentProcess, type AgentProcessOptions } from './agent-process.js';
import type { LedgerMode } from './run-ledger-setup.js';
import { sendAndFollow } from './send-follow.js';

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function positiveNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

function ledgerMode(v: string): LedgerMode {
  if (v !== 'auto' && v !== 'on' && v !== 'off') throw new InvalidArgumentError('expected auto, on or off');
  return v;
}


export function registerAgentCommands(program: Command): void {
  program
    .command('agent')
    .description('Consume the action channels and drive the local Docker engine')
    .option('--broker <url>', 'amqp://… or redis://… (env BOSUN_BROKER_URL)')
    .option('--concurrency <n>', 'messages handled at once per channel (= prefetch)', positiveInt, 4)
    .option('--policy <file>', 'policy file (YAML/JSON); default: the safe built-in policy')
    .option('--pools <file>', 'warm pools (YAML): prewarmed containers that matching attached runs use')
    .option('--docker-host <url>', 'the engine (default: DOCKER_HOST or the local socket)')
    .option('--http <host:port>', 'serve /healthz and /metrics')
    .option('--state-dir <dir>', 'where monitors are kept across restarts (env BOSUN_STATE_DIR)')
    .option('--dispatch-queue <name>', "queue for seed 003's Dockercmd messages (its -q)", 'dispatch')
    .option('--errors-queue <name>', 'durable queue where rejected messages are parked', 'bosun.errors')
    .option('--checkpoint-minutes <n>', 'republish-and-ack runs still going after this long (consumer timeout guard)', Number, 25)
    .option('--max-body-bytes <n>', 'larger message bodies are parked (message_too_large) without being decoded', positiveInt, 1024 * 1024)
    .option('--max-attempts <n>', 'deliveries for retryable failures before a message is parked (redelivery_limit)', positiveInt, 5)
    .option('--store <url>', 'postgres://… shared by agents (workflows, run ledger), or a PGlite directory for workflows; default: embedded PGlite in <state-dir>/workflows (env BOSUN_STORE_URL)')
    .option('--name <name>', "this agent's stable name (workflow leases are held under it, pool containers labelled with it; default hostname + state dir hash)")
    .option('--no-workflows', 'no workflow store, executor or workflow.* channels')
    .option('--workflow-max-tasks <n>', 'workflow task runs in flight at once across executions; more wait their turn, fairly across executions', positiveInt, 32)
    .option('--ledger <auto|on|off>', 'run ledger: a request id claimed by one agent is not started by another while its lease lives; auto = on with a postgres:// store', ledgerMode, 'auto')
    .option('--ledger-lease-seconds <n>', 'run ledger lease, renewed while the run goes on', positiveNumber, 30)
    .option('--pretty', 'human-readable logs instead of JSON')
    .option('--log-level <level>', 'trace|debug|info|warn|error (default: BOSUN_LOG_LEVEL, else info)')
    .action(async (opts: {
      broker?: string; concurrency: number; policy?: string; pools?: string; dockerHost?: string; http?: string; stateDir?: string; dispatchQueue: string; checkpointMinutes: number; errorsQueue: string;
      maxBodyBytes: number; maxAttempts: number;
      store?: string; name?: string; workflows: boolean; workflowMaxTasks: number; ledger: LedgerMode; ledgerLeaseSeconds: number;
      pretty?: boolean; logLevel?: string;
    }) => {
      const log = createLogger({ name: 'bosun-agent', level: opts.logLevel, ...(opts.pretty ? { pretty: true } : {}) });
      const proc = await startAgentProcess({
        brokerUrl: brokerUrlOf(opts.broker),
        concurrency: opts.concurrency,
        dispatchQueue: opts.dispatchQueue,
        errorsChannel: opts.errorsQueue,
        checkpointMs: Math.max(1, opts.checkpointMinutes * 60_000),
        maxBodyBytes: opts.maxBodyBytes,
        maxAttempts: opts.maxAttempts,
        log,
        ...(opts.policy ? { policyFile: opts.policy } : {}),
        ...(opts.pools ? { poolsFile: opts.pools } : {}),
        ...(opts.dockerHost ? { dockerHost: opts.dockerHost } : {}),
        ...(opts.http ? { http: opts.http } : {}),
        ...(opts.stateDir ? { stateDir: opts.stateDir } : {}),
        ...ledgerOptions(opts),
        ...(opts.name ? { name: opts.name } : {}),
        workflows: opts.workflows,
        workflowMaxTasks: opts.workflowMaxTasks,
      });
      let stopping = false;
      const shutdown = (sig: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal: sig }, 'shutting down: no new messages, finishing in-flight work');
        void proc.stop().then(() => process.exit(0), (e: unknown) => {
          log.error({ err: (e as Error).message }, 'unclean shutdown');
          process.exit(1);
        });
      };
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      process.on('SIGINT', () => shutdown('SIGINT'));
      log.info('ready');
    });

  program
    .command('send')
    .description('Publish a message to a channel; with --wait, print the reply')
    .argument('<channel>', 'e.g. start_container.response_channel')
    .argument('<body>', 'JSON/JSON5 text, or @file')
    .option('--broker <url>', 'amqp://… or redis://… (env BOSUN_BROKER_URL)')
    .option('--wait', 'wait for the reply envelope (sent to a private reply channel) and print it')
    .option('--listen <channel>', 'also print the first message arriving on this channel (e.g. the response_channel)')
    .option('--timeout <seconds>', 'how long --wait/--listen wait (--follow: without any message)', Number, 120)
    .option('--follow', 'print the live output of a run with stream: true (stdout/stderr), then the envelope (stderr); exit with the run\'s code')
    .action(async (channel: string, bodyArg: string, opts: { broker?: string; wait?: boolean; listen?: string; timeout: number; follow?: boolean }) => {
      const body = bodyArg.startsWith('@') ? await readFile(bodyArg.slice(1), 'utf8') : bodyArg;
      const transport = await createTransport(brokerUrlOf(opts.broker), silentLogger);
      await transport.connect();
      try {
        const sinks = { stdout: (t: string) => void process.stdout.write(t), stderr: (t: string) => void process.stderr.write(t) };
        const code = opts.follow ? await sendAndFollow(transport, channel, body, opts.timeout, sinks) : await sendAndWait(transport, channel, body, opts);
        process.exitCode = code;
      } finally {
        await transport.close();
      }
    });

  program
    .command('listen')
    .description('Print messages arriving on a channel (e.g. a response_channel)')
    .argument('<channel>')
    .option('--broker <url>', 'amqp://… or redis://…')
    .option('--count <n>', 'stop after n messages', positiveInt)
    .action(async (channel: string, opts: { broker?: string; count?: number }) => {
      const transport = await createTransport(brokerUrlOf(opts.broker), silentLogger);
      await transport.connect();
      let seen = 0;
      await new Promise<void>((resolve) => {
        void transport.consume(channel, async (m) => {
          process.stdout.write(m.body.toString('utf8') + '\n');
          await m.ack();
          if (opts.count && ++seen >= opts.count) resolve();
        }, { prefetch: 1 });
        process.on('SIGINT', () => resolve());
      });
      await transport.close();
    });
}

/** Publishes, then waits for what was asked; returns the exit code (0 ok, 1 error reply, 2 timeout). */
async function sendAndWait(transport: Transport, channel: string, body: string, opts: { wait?: boolean; listen?: string; timeout: number }): Promise<number> {
  const correlationId = randomUUID();
  const replyTo = opts.wait ? `bosun.reply.${correlationId}` : undefined;
  const waits: { label: string; got: Promise<InboundMessage | undefined> }[] = [];
  if (replyTo) waits.push({ label: 'reply', ...(await firstMessage(transport, replyTo, true, opts.timeout)) });
  if (opts.listen) waits.push({ label: opts.listen, ...(await firstMessage(transport, opts.listen, false, opts.timeout)) });
  await transport.publish(channel, body, { correlationId, messageId: correlationId, ...(replyTo ? { replyTo } : {}) });
  if (waits.length === 0) {
    process.stdout.write(JSON.stringify({ sent: true, channel, message_id: correlationId }) + '\n');
    return 0;
  }
  let code = 0;
  for (const w of waits) {
    const m = await w.got;
    if (!m) {
      process.stderr.write(`bosun send: no ${w.label} message within ${opts.timeout} s\n`);
      code = 2;
      continue;
    }
    const text = m.body.toString('utf8');
    process.stdout.write(text + '\n');
    if (w.label === 'reply' && /"ok":false/.test(text)) code = Math.max(code, 1);
  }
  return code;
}

/** Subscribes now; the promise resolves with the first message (or undefined after timeoutS). */
async function firstMessage(transport: Transport, channel: string, ephemeral: boolean, timeoutS: number): Promise<{ got: Promise<InboundMessage | undefined> }> {
  let resolveMsg!: (m: InboundMessage | undefined) => void;
  const got = new Promise<InboundMessage | undefined>((r) => (resolveMsg = r));
  const sub = await transport.consume(channel, async (m) => {
    await m.ack();
    resolveMsg(m);
  }, { prefetch: 1, ephemeral });
  const timer = setTimeout(() => resolveMsg(undefined), timeoutS * 1000);
  return {
    got: got.finally(() => {
      clearTimeout(timer);
      void sub.cancel();
    }),
  };
}

function ledgerOptions(opts: { store?: string; ledger: LedgerMode; ledgerLeaseSeconds: number }): Pick<AgentProcessOptions, 'storeUrl' | 'ledger' | 'ledgerLeaseMs'> {
  const storeUrl = opts.store ?? process.env.BOSUN_STORE_URL;
  return {
    ledger: opts.ledger,
    ledgerLeaseMs: Math.round(opts.ledgerLeaseSeconds * 1000),
    ...(storeUrl ? { storeUrl } : {}),
  };
}
