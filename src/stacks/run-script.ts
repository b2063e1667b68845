/**
 * docker-map's run_script: run a script (file or directory on the Docker host, mounted at
 * container_script_dir) or a self-contained command in a fresh container of a service,
 * after bringing its dependencies up; result {id, exit_code, log} or {id, error} on timeout.
 * A caller that may run again after a crash (a workflow task) labels the container and adopts it.
 */
import { statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { z } from 'zod';
import type { ContainerEngine } from '../ports/engine.js';
import type { ContainerSpec } from '../domain/engine/index.js';
import { BosunError } from '../domain/errors.js';
import { withTimeout } from '../util/abort.js';
import { desiredContainers } from '../planner/stack/containers.js';
import { dependencyGraph } from '../planner/stack/graph.js';
import type { DesiredStack, StackOptions } from '../domain/stack.js';
import { runStack } from './run-stack.js';
import { shellSplit } from './compose-values.js';

export const RunScriptInput = z
  .object({
    service: z.string().min(1),
    instance: z.string().optional(),
    script_path: z.string().optional(),
    entrypoint: z.union([z.string(), z.array(z.string())]).optional(),
    command_format: z.union([z.string(), z.array(z.string())]).optional(),
    wait_timeout_s: z.number().positive().optional(),
    container_script_dir: z.string().startsWith('/').default('/tmp/script_run'),
    remove_existing_before: z.boolean().default(false),
    remove_created_after: z.boolean().default(true),
    /** docker-map's log options: timestamp each line; keep only the last N lines. */
    timestamps: z.boolean().default(false),
    tail: z.union([z.number().int().min(0), z.literal('all')]).default('all'),
  })
  .strict();

export type RunScriptRequest = z.input<typeof RunScriptInput>;

export type RunScriptResult = { id: string; exit_code: number; log: string } | { id: string; error: string };

export interface RunScriptOptions {
  /** Stops waiting for the script (the container is removed as on a timeout, unless kept for the caller). */
  signal?: AbortSignal;
  /** Extra labels on the script's container. */
  labels?: Record<string, string>;
  /** A container of the script's name carrying this label is this caller's own from an earlier try: wait for it, never start a second. */
  adopt?: { label: string; value: string };
  /** Never remove the container here: the caller removes it once the result is safe (overrides remove_created_after). */
  keepForCaller?: boolean;
}

const argv = (v: string | string[]) => (Array.isArray(v) ? v : shellSplit(v));

/** The container spec for the script run: the service's spec, with entrypoint, command and the script mount. */
export function scriptSpec(stack: DesiredStack, req: z.output<typeof RunScriptInput>): ContainerSpec {
  const svc = stack.services[req.service];
  if (!svc) throw new BosunError('not_found', `stack ${stack.name} has no service "${req.service}"`, { field: 'service', retryable: false });
  const all = desiredContainers(stack, svc);
  const target = req.instance === undefined ? all[0] : all.find((c) => c.instance === req.instance);
  if (!target) throw new BosunError('not_found', `service "${req.service}" has no instance "${req.instance}"`, { field: 'instance', retryable: false });
  let scriptInContainer = req.container_script_dir;
  const mounts = [...(target.spec.mounts ?? [])];
  if (req.script_path) {
    const host = resolve(req.script_path);
    let isDir: boolean;
    try {
      isDir = statSync(host).isDirectory();
    } catch {
      throw new BosunError('not_found', `script_path ${req.script_path} does not exist`, { field: 'script_path', retryable: false });
    }
    mounts.push({ type: 'bind', source: isDir ? host : dirname(host), target: req.container_script_dir });
    if (!isDir) scriptInContainer = `${req.container_script_dir}/${basename(host)}`;
  }
  const format = (s: string) => s.replaceAll('{script_path}', scriptInContainer);
  const { restartPolicy, healthcheck, ...base } = target.spec;
  void restartPolicy; void healthcheck;
  return {
    ...base,
    ...(req.entrypoint !== undefined ? { entrypoint: argv(req.entrypoint) } : {}),
    ...(req.command_format !== undefined ? { cmd: argv(req.command_format).map(format) } : {}),
    mounts,
  };
}

export async function runScript(engine: ContainerEngine, stack: DesiredStack, input: RunScriptRequest, opts: StackOptions, run: RunScriptOptions = {}): Promise<RunScriptResult> {
  const req = RunScriptInput.parse(input);
  const base = scriptSpec(stack, req);
  const spec = run.labels ? { ...base, labels: { ...base.labels, ...run.labels } } : base;
  const removeAfter = req.remove_created_after && !run.keepForCaller;
  const deps = dependencyGraph(stack.services).get(req.service) ?? [];
  if (deps.length) {
    const up = await runStack(engine, stack, 'startup', { ...opts, services: [...deps], instances: [] });
    if (!up.ok) throw new BosunError('engine_error', `dependencies of ${req.service} did not come up`, { details: up.containers });
  }
  const existing = await engine.containers.inspect(spec.name!);
  const adopted = existing && run.adopt && existing.labels[run.adopt.label] === run.adopt.value ? existing : undefined;
  if (existing && !adopted) {
    if (!req.remove_existing_before) throw new BosunError('conflict', `container ${spec.name} exists; set remove_existing_before to replace it`, { field: 'remove_existing_before', retryable: false });
    await engine.containers.remove(existing.id, { force: true });
  }
  const id = adopted ? adopted.id : (await engine.containers.create(spec)).id;
  if (!adopted || adopted.state.status === 'created') await engine.containers.start(id);
  const waitMs = (req.wait_timeout_s ?? spec.stopTimeoutSec ?? 60) * 1000;
  let exitCode: number;
  try {
    exitCode = (await withTimeout(`script in ${spec.name}`, waitMs, (s) => engine.containers.wait(id, { signal: s }), run.signal)).exitCode;
  } catch (e) {
    // Timed out (or cancelled): the script is still running; remove_created_after applies all the same.
    if (removeAfter) await engine.containers.remove(id, { force: true }).catch(() => undefined);
    return { id, error: e instanceof Error ? e.message : String(e) };
  }
  const out = await engine.containers.logs(id, { timestamps: req.timestamps, ...(req.tail !== 'all' ? { tail: req.tail } : {}) });
  if (removeAfter) await engine.containers.remove(id, { force: true });
  return { id, exit_code: exitCode, log: out.stdout + out.stderr };
}
