/**
 * The `stack` channel: a docker-map action (or plan/up/down, or run_script) on a stack
 * given inline (Compose YAML text or object) or by path; replies with per-container results.
 */
import { z } from 'zod';
import { stringify } from 'yaml';
import { resolve } from 'node:path';
import { BosunError } from '../domain/errors.js';
import { LABEL } from '../domain/labels.js';
import { DEFAULT_POLICY, applyPolicyDefaults, enforceLogDriver, enforceVolumeDriverOpts, type Policy } from '../domain/policy.js';
import { enforceBindSource, enforcePolicyOnHost, enforceReadPath, readFileWithin, realOrNormal } from '../host/policy.js';
import type { ContainerEngine } from '../ports/engine.js';
import { desiredContainers } from '../planner/stack/containers.js';
import type { DesiredStack } from '../domain/stack.js';
import { loadStackFile, parseStack } from '../stacks/load.js';
import { StackOptionsInput, resolveOptions } from '../stacks/options.js';
import { RunScriptInput, runScript, scriptSpec, type RunScriptOptions } from '../stacks/run-script.js';
import { STACK_COMMANDS, runStack } from '../stacks/run-stack.js';
import { boundStack, ensureStackOwnsWhatItUses } from './stack-bounds.js';
import { enforceContextNotWritable } from './image-source.js';
import type { ActionContext, ActionDefinition, ActionOutcome } from './types.js';

export const StackMessage = z
  .object({
    action: z.enum([...STACK_COMMANDS, 'run_script']),
    stack: z.union([
      z.object({ path: z.string().min(1) }).strict(),
      z.object({ inline: z.union([z.string().min(1), z.record(z.string(), z.unknown())]), base_dir: z.string().optional() }).strict(),
    ]),
    /** Stack (project) name; default: the file's `name`, else its directory's name. */
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/).optional(),
    options: StackOptionsInput.optional(),
    /**
     * `${VAR}` values for interpolation. A stack sent by message never sees the agent's own
     * environment (it holds the broker's credentials); only these and the stack's `.env`.
     */
    variables: z.record(z.string(), z.string()).optional(),
    /** For run_script. */
    script: RunScriptInput.optional(),
  })
  .strict()
  .refine((m) => m.action !== 'run_script' || m.script !== undefined, { message: 'run_script needs `script`', path: ['script'] });

export type StackMessageT = z.infer<typeof StackMessage>;

/**
 * Loads the message's stack. Host files are read only below the policy's build_roots —
 * the stack file itself (`stack.path`), a `.env` beside it and any env_file — so a
 * message cannot make the agent read arbitrary host files; compared by their real paths.
 */
export function loadStackOf(m: StackMessageT, policy: Policy = DEFAULT_POLICY, extraLabels?: Record<string, string>): DesiredStack {
  const nameOpt = { ...(m.name ? { name: m.name } : {}), env: m.variables ?? {}, ...(extraLabels ? { extraLabels } : {}) };
  const readFile = (path: string, field: string) => readFileWithin(policy, resolve(path), `stack.${field}`);
  if ('path' in m.stack) {
    enforceReadPath(policy, resolve(m.stack.path), 'stack.path');
    return loadStackFile(m.stack.path, { ...nameOpt, readFile });
  }
  const text = typeof m.stack.inline === 'string' ? m.stack.inline : stringify(m.stack.inline);
  return parseStack(text, { ...nameOpt, fileLabel: 'stack.inline', readFile, ...(m.stack.base_dir ? { baseDir: m.stack.base_dir } : {}) });
}

/** The stack with the policy's defaults filled in (ports published without an address bind to the policy's). */
export function withStackDefaults(policy: Policy, stack: DesiredStack): DesiredStack {
  const services = Object.fromEntries(Object.entries(stack.services).map(([k, svc]) => [k, { ...svc, container: applyPolicyDefaults(policy, svc.container) }]));
  return { ...stack, services };
}

/** Names of the containers the stack makes: the only ones whose namespaces its containers may join. */
export function stackPeers(stack: DesiredStack): Set<string> {
  return new Set(Object.values(stack.services).flatMap((svc) => desiredContainers(stack, svc).map((c) => c.name)));
}

/** Whoever can publish must not own the host: every container the stack can make passes the policy. */
export function enforceStackPolicy(policy: Policy, stack: DesiredStack): void {
  const scope = { peers: stackPeers(stack) };
  for (const svc of Object.values(stack.services)) {
    const prefix = `stack.services.${svc.name}.`;
    for (const c of desiredContainers(stack, svc)) enforcePolicyOnHost(policy, c.spec, prefix, scope);
    if (svc.build) enforceReadPath(policy, svc.build.context, `${prefix}build`);
    enforceLogDriver(policy, svc.logging?.driver, `${prefix}logging.driver`);
  }
  for (const v of stack.volumes) enforceVolumeDriverOpts(policy, v.driverOpts, `stack.volumes.${v.key}.driver_opts`);
}

/**
 * A namespace the stack shares (`container:NAME`) must belong to a container this stack made:
 * one of that name made by someone else (a run, another stack) is refused, not joined.
 */
export async function enforcePeersOwned(engine: ContainerEngine, stack: DesiredStack): Promise<void> {
  for (const svc of Object.values(stack.services)) {
    for (const c of desiredContainers(stack, svc)) {
      for (const [field, mode] of [['network_mode', c.spec.networkMode], ['pid', c.spec.pidMode]] as const) {
        const target = mode?.startsWith('container:') ? mode.slice('container:'.length) : undefined;
        if (!target) continue;
        const found = await engine.containers.inspect(target);
        if (found && (found.labels[LABEL.stack] !== stack.name || found.labels[LABEL.managed] !== 'true')) {
          throw new BosunError('policy_denied', `${mode} is a container that this stack did not make; its namespaces may not be joined`, { field: `stack.services.${svc.name}.${field}`, retryable: false });
        }
      }
    }
  }
}

/** What a caller other than the channel adds: labels on everything the stack makes, and how run_script runs. */
export interface StackRunExtras {
  labels?: Record<string, string>;
  script?: Omit<RunScriptOptions, 'signal'>;
}

/** The stack action itself, for the channel and for workflow tasks: policy, then the action, then its outcome. */
export async function handleStackMessage(m: StackMessageT, ctx: ActionContext, extras: StackRunExtras = {}): Promise<ActionOutcome> {
  const stack = boundStack(ctx.policy, withStackDefaults(ctx.policy, loadStackOf(m, ctx.policy, extras.labels)));
  enforceStackPolicy(ctx.policy, stack);
  await enforcePeersOwned(ctx.engine, stack);
  await ensureStackOwnsWhatItUses(ctx.policy, ctx.engine, stack);
  for (const svc of Object.values(stack.services)) {
    if (svc.build) await enforceContextNotWritable(ctx.engine, realOrNormal(svc.build.context), `stack.services.${svc.name}.build`);
  }
  const opts = resolveOptions(m.options);
  if (m.action === 'run_script') {
    const script = m.script!;
    const req = RunScriptInput.parse(script);
    const spec = scriptSpec(stack, req);
    // The script's mount is the last one; name the field the sender gave.
    const scriptMount = req.script_path ? spec.mounts?.at(-1)?.source : undefined;
    if (scriptMount) enforceBindSource(ctx.policy, scriptMount, 'script.script_path');
    enforcePolicyOnHost(ctx.policy, spec, 'script.', { peers: stackPeers(stack) });
    const r = await runScript(ctx.engine, stack, script, opts, { ...extras.script, signal: ctx.signal });
    const ok = 'exit_code' in r && r.exit_code === 0;
    return {
      reply: { container: { id: r.id }, ...('exit_code' in r ? { exit_code: r.exit_code, stdout: r.log } : {}), result: r },
      ok,
      ...(ok ? {} : 'error' in r ? { error: { code: 'timeout' as const, message: r.error } } : { error: { code: 'nonzero_exit' as const, message: `script exited with ${r.exit_code}` } }),
    };
  }
  const waitS = m.options?.wait_timeout_s;
  const r = await runStack(ctx.engine, stack, m.action, opts, {
    signal: ctx.signal,
    ...(waitS ? { waitTimeoutMs: waitS * 1000 } : {}),
    onProgress: (e) => ctx.log.debug({ stack: stack.name, ...e }, 'stack progress'),
  });
  const failed = r.containers.filter((c) => c.status === 'failed');
  const result = { stack: r.stack, action: r.action, ok: r.ok, changed: r.changed, containers: r.containers };
  if (r.ok) return { reply: { result } };
  const first = failed[0]?.error;
  return {
    reply: { result },
    ok: false,
    error: { code: first?.code ?? 'engine_error', message: `${failed.length} container(s) failed, ${r.containers.filter((c) => c.status === 'skipped').length} skipped${first ? `: ${failed[0]!.container}: ${first.message}` : ''}` },
  };
}

export const stackAction: ActionDefinition<typeof StackMessage> = {
  channel: 'stack',
  description: 'Declarative stacks (Compose + x-bosun): plan, up, down, docker-map actions and run_script, with per-container results',
  schema: StackMessage,
  handle: (m, ctx) => handleStackMessage(m, ctx),
};
