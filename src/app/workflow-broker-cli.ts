/**
 * `bosun workflow start|status|history|ls|cancel|redrive|pause|resume|define` against an agent,
 * through the broker (the workflow.* channels). Results are JSON on stdout; an error reply is
 * printed on stderr with exit 1, no reply within --timeout exits 2. `start --wait` follows
 * the execution's history on stderr (it polls workflow.history) and ends like `workflow run`:
 * the output alone on stdout and exit 0 when it SUCCEEDED, else {"error", "cause"} and exit 1.
 */
import type { Command } from 'commander';
import { brokerUrlOf } from './env-defaults.js';
import { isBosunError } from '../domain/errors.js';
import { formatProblems, loadDefinitionFile, type DefinitionProblem } from '../workflow/definition.js';
import type { Json } from '../workflow/json.js';
import { BrokerClient, type Envelope } from './broker-client.js';
import { readInput } from './workflow-cli.js';

interface BrokerFlags { broker?: string; timeout: number }

const NO_REPLY = 2;

function brokerUrl(f: BrokerFlags): string {
  return brokerUrlOf(f.broker);
}

function withBroker(cmd: Command): Command {
  return cmd
    .option('--broker <url>', 'amqp://… or redis://… (env BOSUN_BROKER_URL)')
    .option('--timeout <seconds>', 'how long to wait for each reply', Number, 30);
}

async function withClient(f: BrokerFlags, fn: (c: BrokerClient) => Promise<number>): Promise<void> {
  const client = await BrokerClient.open(brokerUrl(f));
  try {
    process.exitCode = await fn(client);
  } finally {
    await client.close();
  }
}

/** Prints an error reply (or the missing reply) on stderr; the exit code. */
function failed(channel: string, env: Envelope | undefined): number {
  if (!env) {
    process.stderr.write(`bosun workflow: no reply on ${channel} (is an agent with workflows running?)\n`);
    return NO_REPLY;
  }
  const e = env.error ?? {};
  process.stderr.write(`bosun workflow: ${e.code ?? 'error'}${e.field ? ` (${e.field})` : ''}: ${e.message ?? JSON.stringify(env)}\n`);
  return 1;
}

/** One request; prints its result JSON on stdout. */
async function call(c: BrokerClient, f: BrokerFlags, channel: string, body: Record<string, unknown>, print: (result: unknown) => void = printJson): Promise<number> {
  const env = await c.request(channel, body, f.timeout * 1000);
  if (!env?.ok) return failed(channel, env);
  print(env.result);
  return 0;
}

function printJson(v: unknown): void {
  process.stdout.write(JSON.stringify(v, null, 2) + '\n');
}

function definitionOf(file: string): Json | undefined {
  try {
    return loadDefinitionFile(file);
  } catch (e) {
    const problems = isBosunError(e) ? (e.details as { problems?: DefinitionProblem[] } | undefined)?.problems : undefined;
    process.stderr.write((problems ? formatProblems(problems, file) : `${file}: ${e instanceof Error ? e.message : String(e)}`) + '\n');
    return undefined;
  }
}

interface StartFlags extends BrokerFlags { name?: string; version?: number; input?: string; executionName?: string; wait?: boolean; responseChannel?: string; quiet?: boolean; pollMs: number }

export function registerWorkflowBrokerCommands(wf: Command): void {
  withBroker(wf.command('start')
    .description('start an execution on an agent (FILE, or --name of a stored definition); prints {execution_id, status, created}')
    .argument('[file]', 'definition file (JSON, JSON5 or YAML)')
    .option('--name <name>', 'a definition stored with `workflow define`')
    .option('--version <n>', 'its version (default the newest)', Number)
    .option('--input <json|@file>', 'the execution input (JSON text, or @file)')
    .option('--execution-name <name>', 'names the execution: the same name is the same execution')
    .option('--response-channel <channel>', 'where the agent publishes the end result')
    .option('--wait', 'follow the states on stderr; print the output (exit 0) or {error, cause} (exit 1) when it ends')
    .option('--poll-ms <ms>', 'how often --wait asks for new history', Number, 500)
    .option('--quiet', 'with --wait: no progress on stderr'))
    .action(async (file: string | undefined, f: StartFlags) => {
      if ((file === undefined) === (f.name === undefined)) {
        process.stderr.write('bosun workflow start: give a definition FILE or --name, exactly one\n');
        process.exitCode = 2;
        return;
      }
      const definition = file === undefined ? undefined : definitionOf(file);
      if (file !== undefined && definition === undefined) { process.exitCode = 1; return; }
      let input: Json;
      try {
        input = readInput(f.input);
      } catch (e) {
        process.stderr.write(`bosun workflow start: --input: ${(e as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      const body = {
        ...(definition !== undefined ? { definition } : { name: f.name }),
        ...(f.version !== undefined ? { version: f.version } : {}),
        input,
        ...(f.executionName ? { execution_name: f.executionName } : {}),
        ...(f.responseChannel ? { response_channel: f.responseChannel } : {}),
      };
      await withClient(f, (c) => start(c, f, body));
    });

  for (const [cmd, channel, what] of [
    ['status', 'workflow.status', 'status, input, output or error, current states'],
    ['cancel', 'workflow.cancel', 'cancel a running execution (it ends ABORTED)'],
    ['pause', 'workflow.pause', 'pause a running execution'],
    ['resume', 'workflow.resume', 'resume a paused execution'],
    ['redrive', 'workflow.redrive', 'restart a failed execution from the state(s) that failed'],
  ] as const) {
    const c = withBroker(wf.command(cmd).description(`${what} (through an agent)`).argument('<execution-id>'));
    if (cmd === 'cancel') c.option('--cause <text>', 'recorded as the cause');
    c.action(async (id: string, f: BrokerFlags & { cause?: string }) => {
      await withClient(f, (client) => call(client, f, channel, { execution_id: id, ...(f.cause ? { cause: f.cause } : {}) }));
    });
  }

  withBroker(wf.command('history').description("an execution's history events (through an agent)").argument('<execution-id>')
    .option('--after <seq>', 'only events after this sequence number', Number, 0))
    .action(async (id: string, f: BrokerFlags & { after: number }) => {
      await withClient(f, async (c) => {
        let after = f.after;
        for (;;) {
          const env = await c.request('workflow.history', { execution_id: id, after_seq: after, limit: 1000 }, f.timeout * 1000);
          if (!env?.ok) return failed('workflow.history', env);
          const r = env.result as { events: { seq: number }[]; next_seq?: number };
          for (const e of r.events) process.stdout.write(JSON.stringify(e) + '\n');
          if (r.next_seq === undefined) return 0;
          after = r.next_seq;
        }
      });
    });

  withBroker(wf.command('ls').description('the newest executions (through an agent)')
    .option('--status <status>', 'RUNNING|SUCCEEDED|FAILED|TIMED_OUT|ABORTED')
    .option('--limit <n>', 'at most this many', Number, 50)
    .option('--json', 'print the reply result as JSON'))
    .action(async (f: BrokerFlags & { status?: string; limit: number; json?: boolean }) => {
      await withClient(f, (c) => call(c, f, 'workflow.list', { limit: f.limit, ...(f.status ? { status: f.status } : {}) }, f.json ? printJson : printTable));
    });

  withBroker(wf.command('define').description('store a new version of a named definition on the agent; prints {name, version}')
    .argument('<name>').argument('<file>', 'definition file (JSON, JSON5 or YAML)'))
    .action(async (name: string, file: string, f: BrokerFlags) => {
      const definition = definitionOf(file);
      if (definition === undefined) { process.exitCode = 1; return; }
      await withClient(f, (c) => call(c, f, 'workflow.define', { name, definition }));
    });
}

function printTable(result: unknown): void {
  const rows = (result as { executions: Record<string, Json>[] }).executions;
  for (const r of rows) {
    const def = r.name !== undefined ? `${String(r.name)}:${String(r.version)}` : '(inline)';
    process.stdout.write(`${String(r.execution_id)}\t${String(r.status)}\t${def}\t${String(r.created_at)}\n`);
  }
}

async function start(c: BrokerClient, f: StartFlags, body: Record<string, unknown>): Promise<number> {
  const id = await c.send('workflow.start', body);
  const started = await c.next(id, f.timeout * 1000);
  if (!started?.ok) return failed('workflow.start', started);
  const result = started.result as { execution_id: string; status: string };
  if (!f.wait) {
    printJson(result);
    return 0;
  }
  const progress = (line: string): void => void (f.quiet ? undefined : process.stderr.write(line + '\n'));
  progress(`[workflow] execution ${result.execution_id}`);
  let after = 0;
  let end: Envelope | undefined;
  for (;;) {
    // The end reply (sent to this client's reply queue) or the history's status says it ended;
    // either way the history is read once more after it, so every state is shown first.
    end ??= c.take(id);
    const page = await c.request('workflow.history', { execution_id: result.execution_id, after_seq: after, limit: 1000 }, f.timeout * 1000);
    if (!page?.ok) return failed('workflow.history', page);
    const h = page.result as { status: string; events: { seq: number; type: string; state?: string }[]; next_seq?: number };
    for (const e of h.events) progress(`[workflow] ${e.type}${e.state ? ` ${e.state}` : ''}`);
    after = h.events.at(-1)?.seq ?? after;
    if (h.next_seq !== undefined) continue;
    const final = end?.result ?? (h.status !== 'RUNNING' ? await finalStatus(c, f, result.execution_id) : undefined);
    if (final) return printEnd(final as EndResult);
    end = await c.next(id, f.pollMs);
  }
}

interface EndResult { status: string; output?: Json; error?: string; cause?: string }

async function finalStatus(c: BrokerClient, f: BrokerFlags, id: string): Promise<EndResult | undefined> {
  const env = await c.request('workflow.status', { execution_id: id }, f.timeout * 1000);
  return env?.ok ? (env.result as EndResult) : undefined;
}

function printEnd(r: EndResult): number {
  if (r.status === 'SUCCEEDED') {
    process.stdout.write(JSON.stringify(r.output ?? null) + '\n');
    return 0;
  }
  process.stdout.write(JSON.stringify({ error: r.error ?? r.status, cause: r.cause ?? '' }) + '\n');
  return 1;
}
