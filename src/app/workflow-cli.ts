/**
 * `bosun workflow …`: workflows in the Amazon States Language. `validate FILE…` checks
 * definitions (JSON, JSON5 or YAML) and prints every problem with its state and field;
 * exit 0 when all are valid, 1 when one is not, 2 when a file cannot be read. `run FILE` runs
 * one in this process on an embedded store: the final output alone on stdout (progress on
 * stderr), exit 0 when it SUCCEEDED, 1 otherwise with {"error", "cause"} on stdout.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { createEngine } from '../adapters/engine-factory.js';
import { isBosunError } from '../domain/errors.js';
import { silentLogger } from '../util/log.js';
import { formatProblems, loadDefinitionFile, type DefinitionProblem } from '../workflow/definition.js';
import { runLocally } from '../workflow/durable/local-run.js';
import { buildTaskRunners } from '../workflow/durable/runner-set.js';
import type { Json } from '../workflow/json.js';
import { loadPolicy } from './policy-file.js';
import { registerWorkflowBrokerCommands } from './workflow-broker-cli.js';

interface FileResult { file: string; valid: boolean; problems: DefinitionProblem[]; error?: string }

function check(file: string): FileResult {
  try {
    loadDefinitionFile(file);
    return { file, valid: true, problems: [] };
  } catch (e) {
    if (isBosunError(e) && e.code === 'invalid_message' && Array.isArray((e.details as { problems?: unknown } | undefined)?.problems)) {
      return { file, valid: false, problems: (e.details as { problems: DefinitionProblem[] }).problems };
    }
    return { file, valid: false, problems: [], error: isBosunError(e) ? e.message : e instanceof Error ? e.message : String(e) };
  }
}

export function registerWorkflowCommands(program: Command): void {
  const wf = program.command('workflow').description('Workflows in the Amazon States Language (ASL)');
  registerWorkflowRun(wf);
  registerWorkflowBrokerCommands(wf);
  wf.command('validate')
    .description('validate workflow definitions (JSON, JSON5 or YAML); errors name the state and field')
    .argument('<files...>', 'definition files')
    .option('--json', 'print the results as JSON')
    .action((files: string[], flags: { json?: boolean }) => {
      const results = files.map(check);
      if (flags.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
      else {
        for (const r of results) {
          if (r.valid) process.stdout.write(`${r.file}: valid\n`);
          else if (r.error) process.stderr.write(`${r.file}: ${r.error}\n`);
          else process.stderr.write(formatProblems(r.problems, r.file) + '\n');
        }
      }
      process.exitCode = results.some((r) => r.error && !r.problems.length) ? 2 : results.every((r) => r.valid) ? 0 : 1;
    });
}

interface RunFlags { input?: string; stateDir?: string; executionName?: string; policy?: string; dockerHost?: string; taskLabel: string[]; keepContainers?: boolean; quiet?: boolean; clusterUrl?: string; clusterTokenFile?: string }

/** bosun:service's server: --cluster-url (or BOSUN_CLUSTER_URL), its token from a file or BOSUN_CLUSTER_TOKEN (not argv: ps shows it). */
function clusterOf(flags: RunFlags): { url: string; token?: string } | undefined {
  const url = flags.clusterUrl ?? process.env.BOSUN_CLUSTER_URL;
  if (!url) return undefined;
  const token = flags.clusterTokenFile ? readFileSync(flags.clusterTokenFile, 'utf8').trim() : process.env.BOSUN_CLUSTER_TOKEN;
  return { url, ...(token ? { token } : {}) };
}

export function readInput(v: string | undefined): Json {
  if (v === undefined) return {};
  return JSON.parse(v.startsWith('@') ? readFileSync(v.slice(1), 'utf8') : v) as Json;
}

function labelsOf(pairs: string[]): Record<string, string> {
  return Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
}

async function runCommand(file: string, flags: RunFlags): Promise<number> {
  const fail = (error: string, cause: string): number => {
    process.stdout.write(JSON.stringify({ error, cause }) + '\n');
    return 1;
  };
  let definition;
  let input: Json;
  let cluster: { url: string; token?: string } | undefined;
  try {
    definition = loadDefinitionFile(file);
    input = readInput(flags.input);
    cluster = clusterOf(flags);
  } catch (e) {
    const problems = isBosunError(e) ? (e.details as { problems?: DefinitionProblem[] } | undefined)?.problems : undefined;
    if (problems) process.stderr.write(formatProblems(problems, file) + '\n');
    return fail('bosun.InvalidDefinition', e instanceof Error ? e.message : String(e));
  }
  const temp = flags.stateDir ? undefined : mkdtempSync(join(tmpdir(), 'bosun-workflow-'));
  try {
    const runners = buildTaskRunners({
      engine: createEngine({ host: flags.dockerHost }), policy: await loadPolicy(flags.policy), log: silentLogger, labels: labelsOf(flags.taskLabel), remove: !flags.keepContainers,
      ...(cluster ? { cluster } : {}),
    });
    const progress = (msg: string): void => void (flags.quiet ? undefined : process.stderr.write(msg + '\n'));
    const rec = await runLocally({
      definition, input, store: join(flags.stateDir ?? temp!, 'workflows'), runners,
      ...(flags.executionName ? { executionName: flags.executionName } : {}),
      log: progress,
      onCommit: (_id, history) => {
        for (const h of history) if (h.type === 'StateEntered' || h.type === 'TaskScheduled' || h.type === 'TaskSucceeded' || h.type === 'TaskFailed') progress(`[workflow] ${h.type} ${String(h.state ?? '')}`);
      },
    });
    if (rec.status === 'SUCCEEDED') {
      process.stdout.write(JSON.stringify(rec.state?.output ?? null) + '\n');
      return 0;
    }
    return fail(rec.state?.error ?? rec.status, rec.state?.cause ?? '');
  } finally {
    if (temp) rmSync(temp, { recursive: true, force: true });
  }
}

export function registerWorkflowRun(wf: Command): void {
  wf.command('run')
    .description('run a workflow in this process on an embedded store; prints the final output JSON on stdout')
    .argument('<file>', 'definition file (JSON, JSON5 or YAML)')
    .option('--input <json|@file>', 'the execution input (JSON text, or @file)')
    .option('--state-dir <dir>', 'keep the store here (rerun with the same --execution-name to resume after a crash); default: a temporary directory')
    .option('--execution-name <name>', 'the execution id; the same name is the same execution')
    .option('--policy <file>', 'policy file (YAML/JSON); default: the safe built-in policy')
    .option('--docker-host <url>', 'the engine (default: DOCKER_HOST or the local socket)')
    .option('--task-label <k=v>', 'a label on every task container (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--keep-containers', 'leave task containers after their results are stored')
    .option('--quiet', 'no progress on stderr')
    .option('--cluster-url <url>', 'cluster server for bosun:service tasks (env BOSUN_CLUSTER_URL)')
    .option('--cluster-token-file <file>', "the cluster API's bearer token (default: env BOSUN_CLUSTER_TOKEN)")
    .action(async (file: string, flags: RunFlags) => {
      process.exitCode = await runCommand(file, flags);
    });
}
