/**
 * `bosun stack …`: declarative stacks from a Compose file (+ x-bosun) — plan, up, down,
 * ps, validate, run-script and docker-map's actions. Composition root: makes the engine.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { createEngine } from '../adapters/engine-factory.js';
import { isBosunError } from '../domain/errors.js';
import { LABEL } from '../domain/labels.js';
import type { DesiredStack } from '../domain/stack.js';
import { loadStackFile } from '../stacks/load.js';
import { StackOptionsInput, resolveOptions } from '../stacks/options.js';
import { progressSink } from '../stacks/progress.js';
import { runScript } from '../stacks/run-script.js';
import { runStack, type StackCommand, type StackRunResult } from '../stacks/run-stack.js';

interface CommonFlags {
  file?: string;
  projectName?: string;
  instances?: string[];
  json?: boolean;
  dockerHost?: string;
  forceUpdate?: string[];
  skipLimitReset?: boolean;
  updatePersistent?: boolean;
  removePersistent?: boolean;
  removeAttached?: boolean;
  pullBeforeUpdate?: boolean;
  pullAll?: boolean;
  checkExec?: string;
  restartExecCommands?: boolean;
  nonrecoverable?: string;
  signal?: string;
  timeout?: string;
  waitTimeout?: string;
  removeOrphans?: boolean;
}

const DESCRIPTIONS: Record<StackCommand, string> = {
  plan: 'show what `update` would do, container by container, with the drifted fields; changes nothing',
  up: 'create what is missing, change what drifted (in place where Docker allows), start what is stopped',
  down: 'stop and remove the stack (dependents first), then its networks',
  create: 'create missing containers (dependencies first)',
  start: 'start stopped containers (dependencies first)',
  restart: 'restart only the named containers',
  stop: 'stop containers and their dependents (dependents first)',
  remove: 'remove stopped containers and their dependents',
  startup: 'remove containers with non-recoverable exit codes, create missing, start stopped',
  shutdown: 'stop and remove (dependents first)',
  update: 'same as up',
  signal: 'send a signal (--signal) to running containers',
  pull: 'pull the images of the stack',
};

function stackFile(f: string | undefined): string {
  if (f) return f;
  const found = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'].find((x) => existsSync(x));
  if (!found) fail('no stack file: pass -f FILE (or have compose.yaml / docker-compose.yml here)', 2);
  return found;
}

function fail(message: string, code = 1): never {
  process.stderr.write(`bosun stack: ${message}\n`);
  process.exit(code);
}

function load(flags: CommonFlags): DesiredStack {
  try {
    return loadStackFile(stackFile(flags.file), flags.projectName ? { name: flags.projectName } : {});
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e), 2);
  }
}

function optionsOf(services: string[], f: CommonFlags) {
  const parsed = StackOptionsInput.safeParse({
    ...(services.length ? { services } : {}),
    ...(f.instances?.length ? { instances: f.instances } : {}),
    ...(f.forceUpdate?.length ? { force_update: f.forceUpdate } : {}),
    ...(f.skipLimitReset ? { skip_limit_reset: true } : {}),
    ...(f.updatePersistent ? { update_persistent: true } : {}),
    ...(f.removePersistent === false ? { remove_persistent: false } : {}),
    ...(f.removeAttached ? { remove_attached: true } : {}),
    ...(f.pullBeforeUpdate ? { pull_before_update: true } : {}),
    ...(f.pullAll === false ? { pull_all_images: false } : {}),
    ...(f.checkExec ? { check_exec_commands: f.checkExec } : {}),
    ...(f.restartExecCommands ? { restart_exec_commands: true } : {}),
    ...(f.nonrecoverable ? { nonrecoverable_exit_codes: f.nonrecoverable.split(',').map(Number) } : {}),
    ...(f.signal ? { signal: f.signal } : {}),
    ...(f.timeout ? { stop_timeout_s: Number(f.timeout) } : {}),
    ...(f.waitTimeout ? { wait_timeout_s: Number(f.waitTimeout) } : {}),
    ...(f.removeOrphans ? { remove_orphans: true } : {}),
  });
  if (!parsed.success) fail(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), 2);
  return parsed.data;
}

function printResult(r: StackRunResult, json: boolean | undefined): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ stack: r.stack, action: r.action, ok: r.ok, changed: r.changed, containers: r.containers }, null, 2)}\n`);
    return;
  }
  const verb = r.action === 'plan' ? 'would' : 'did';
  for (const c of r.containers) {
    const what = c.done.length ? `${verb}: ${c.done.join(', ')}` : 'no change';
    const why = c.reasons.length ? ` — ${c.reasons.join('; ')}` : '';
    const err = c.error ? ` — FAILED at ${c.error.op}: ${c.error.message}` : '';
    process.stdout.write(`${c.container.padEnd(32)} ${c.status.padEnd(9)} ${what}${why}${err}\n`);
  }
  process.stdout.write(`${r.stack}: ${r.action} ${r.ok ? 'ok' : 'FAILED'}, ${r.changed} container(s) ${r.action === 'plan' ? 'to change' : 'changed'}\n`);
}

function withCommon(cmd: Command): Command {
  return cmd
    .option('-f, --file <file>', 'stack file (Compose Specification + x-bosun); default: compose.yaml, compose.yml, docker-compose.yml or docker-compose.yaml here')
    .option('-p, --project-name <name>', 'stack name (default: the file\'s name, else its directory)')
    .option('--instances <names...>', 'only these instances')
    .option('--json', 'print the result as JSON');
}

/** Commands that talk to the engine (validate reads only the file). */
function withEngine(cmd: Command): Command {
  return withCommon(cmd).option('--docker-host <url>', 'the engine (default: DOCKER_HOST or the local socket)');
}

async function runCommand(name: StackCommand, services: string[], flags: CommonFlags): Promise<void> {
  const stack = load(flags);
  const input = optionsOf(services, flags);
  const sink = name === 'plan' || flags.json ? undefined : progressSink(process.stderr);
  try {
    const r = await runStack(createEngine({ host: flags.dockerHost }), stack, name, resolveOptions(input), {
      ...(sink ? { onProgress: (e) => sink.event(e) } : {}),
      ...(input.wait_timeout_s ? { waitTimeoutMs: input.wait_timeout_s * 1000 } : {}),
    });
    sink?.end();
    printResult(r, flags.json);
    if (!r.ok) process.exitCode = 1;
  } catch (e) {
    fail(isBosunError(e) ? `${e.code}: ${e.message}` : String(e));
  }
}

export function registerStackCommands(program: Command): void {
  const stack = program.command('stack').description('declarative stacks from Compose files (+ x-bosun), docker-map actions');
  for (const name of Object.keys(DESCRIPTIONS) as StackCommand[]) {
    withEngine(stack.command(`${name} [services...]`).description(DESCRIPTIONS[name]))
      .option('--force-update <services...>', 'recreate these services without checking (update)')
      .option('--skip-limit-reset', 'do not recreate to remove limits the API cannot reset (update)')
      .option('--update-persistent', 'also recreate persistent services (update)')
      .option('--no-remove-persistent', 'keep persistent services (remove, shutdown, down)')
      .option('--remove-attached', 'also remove attached volumes (remove, shutdown, down)')
      .option('--pull-before-update', 'pull images before detecting drift (update)')
      .option('--no-pull-all', 'pull only missing images (pull)')
      .option('--check-exec <mode>', 'full | partial | none (update)')
      .option('--restart-exec-commands', 'rerun exec commands after restart (restart)')
      .option('--nonrecoverable <codes>', 'comma-separated exit codes (startup, update)')
      .option('--signal <signal>', 'signal to send (signal)', undefined)
      .option('--timeout <seconds>', 'stop timeout')
      .option('--wait-timeout <seconds>', 'wait for healthy / completed dependencies')
      .option('--remove-orphans', 'remove containers of services no longer in the file (up, update, startup, down)')
      .action((services: string[], flags: CommonFlags) => runCommand(name, services, flags));
  }
  withCommon(stack.command('validate').description('check the stack file; errors with file:line:col')).action((flags: CommonFlags) => {
    const s = load(flags);
    process.stdout.write(`${s.name}: ${Object.keys(s.services).length} service(s), valid\n`);
  });
  withEngine(stack.command('ps').description('the stack\'s containers: service, instance, state, drift')).action(async (flags: CommonFlags) => {
    const s = load(flags);
    const engine = createEngine({ host: flags.dockerHost });
    const live = await engine.containers.list({ all: true, labels: { [LABEL.stack]: s.name } });
    const plan = await runStack(engine, s, 'plan', resolveOptions(optionsOf([], flags)));
    const rows = plan.containers.map((c) => {
      const l = live.find((x) => x.name === c.container);
      return { container: c.container, service: c.service, instance: c.instance, id: l?.id.slice(0, 12) ?? '', state: l?.status ?? 'missing', drift: c.reasons.join('; ') || 'up to date' };
    });
    if (flags.json) return void process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    for (const r of rows) process.stdout.write(`${r.container.padEnd(32)} ${r.id.padEnd(12)} ${r.state.padEnd(9)} ${r.drift}\n`);
  });
  withEngine(stack.command('run-script <service>').description('run a script or command in a fresh container of a service (docker-map run_script)'))
    .option('--instance <name>', 'instance of the service')
    .option('--script <path>', 'script file or directory on the Docker host')
    .option('--entrypoint <cmd>', 'entrypoint of the script runtime, e.g. /bin/sh')
    .option('--command <format>', 'command; {script_path} is replaced with the path inside the container')
    .option('--dir <path>', 'container_script_dir', '/tmp/script_run')
    .option('--wait-timeout <seconds>', 'how long to wait for the script')
    .option('--remove-existing-before', 'remove an existing container of that name first')
    .option('--keep', 'keep the container afterwards (remove_created_after=false)')
    .option('--timestamps', 'prefix each log line with its timestamp')
    .option('--tail <lines>', 'only the last N lines of the log')
    .action(async (service: string, f: CommonFlags & { instance?: string; script?: string; entrypoint?: string; command?: string; dir: string; removeExistingBefore?: boolean; keep?: boolean; timestamps?: boolean; tail?: string }) => {
      const s = load(f);
      try {
        const r = await runScript(createEngine({ host: f.dockerHost }), s, {
          service, container_script_dir: f.dir, remove_existing_before: f.removeExistingBefore ?? false, remove_created_after: !f.keep,
          ...(f.instance !== undefined ? { instance: f.instance } : {}),
          ...(f.script ? { script_path: f.script } : {}),
          ...(f.entrypoint ? { entrypoint: f.entrypoint } : {}),
          ...(f.command ? { command_format: f.command } : {}),
          ...(f.waitTimeout ? { wait_timeout_s: Number(f.waitTimeout) } : {}),
          ...(f.timestamps ? { timestamps: true } : {}),
          ...(f.tail !== undefined ? { tail: Number(f.tail) } : {}),
        }, resolveOptions(optionsOf([], f)));
        process.stdout.write(f.json ? `${JSON.stringify(r)}\n` : 'error' in r ? `${r.id}: ${r.error}\n` : r.log);
        process.exitCode = 'exit_code' in r ? r.exit_code : 1;
      } catch (e) {
        fail(isBosunError(e) ? `${e.code}: ${e.message}` : String(e));
      }
    });
}
