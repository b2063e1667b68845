/**
 * `bosun exec CHANNEL --body JSON`: one message through runAction in this process, against the
 * local engine, with no broker. Prints the reply envelope (exit 0 ok, 1 not ok, 75 when the
 * engine is unreachable); an action's notices and progress go to stderr, one JSON line each.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { pino } from 'pino';
import { createEngine } from '../adapters/engine-factory.js';
import { logLevelOf } from '../util/log.js';
import { buildRegistry } from '../actions/registry.js';
import type { ActionDeps } from '../actions/types.js';
import { BosunError } from '../domain/errors.js';
import type { RunContext, RunResult } from '../pipeline/context.js';
import { RunQuotas } from '../pipeline/quotas.js';
import { runAction } from '../pipeline/run-action.js';
import { systemClock } from '../ports/clock.js';
import { loadPolicy } from './policy-file.js';

/** A monitor outlives the message that asks for it: only a running agent can keep one. */
const NO_MONITORS: ActionDeps = {
  monitors: {
    add: () => Promise.reject(new BosunError('invalid_message', 'monitor_container_status needs a running agent (`bosun agent`); `bosun exec` handles one message and exits', { retryable: false })),
  },
};

/** Exit status of a result: the envelope's ok, or EX_TEMPFAIL for a failure worth trying again. */
export function exitCodeOf(r: RunResult): number {
  if (r.envelope) return r.envelope.ok ? 0 : 1;
  return 75;
}

export function registerExecCommands(program: Command): void {
  program
    .command('exec')
    .description('Handle one channel message in this process (no broker) and print its reply envelope')
    .argument('<channel>', 'e.g. container_status')
    .requiredOption('--body <json>', 'the message body: JSON/JSON5 text, or @file')
    .option('--policy <file>', 'policy file (YAML/JSON); default: the safe built-in policy')
    .option('--docker-host <url>', 'the engine (default: DOCKER_HOST or the local socket)')
    .option('--log-level <level>', 'trace|debug|info|warn|error (on stderr beside the publishes; BOSUN_LOG_LEVEL is not read)', 'error')
    .action(async (channel: string, opts: { body: string; policy?: string; dockerHost?: string; logLevel: string }) => {
      const body = opts.body.startsWith('@') ? await readFile(opts.body.slice(1)) : opts.body;
      // Its flag alone (always given: default error), checked by name like the other commands' levels.
      const log = pino({ name: 'bosun-exec', level: logLevelOf(opts.logLevel) }, pino.destination(2));
      const engine = createEngine({ host: opts.dockerHost });
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      const toStderr = async (to: string, text: string) => void process.stderr.write(JSON.stringify({ channel: to, body: JSON.parse(text) as unknown }) + '\n');
      const ctx: RunContext = {
        registry: buildRegistry(NO_MONITORS),
        engine,
        policy: await loadPolicy(opts.policy),
        clock: systemClock,
        log,
        quotas: new RunQuotas(engine, systemClock.now),
        publish: toStderr,
        signal: stop.signal,
        // One try: a failure is reported, not handed back for another delivery.
        maxAttempts: 1,
      };
      const r = await runAction(channel, body, ctx);
      if (r.envelope) process.stdout.write(JSON.stringify(r.envelope) + '\n');
      else process.stderr.write(`bosun exec: ${r.error?.code ?? 'error'}: ${r.error?.message ?? 'not handled'} (try again)\n`);
      await r.afterSettle?.().catch((e: unknown) => log.warn({ err: (e as Error).message }, 'cleanup after the run failed'));
      process.exitCode = exitCodeOf(r);
    });
}
