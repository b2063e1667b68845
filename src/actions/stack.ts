/**
 * The `stack` channel: a docker-map action (or plan/up/down, or run_script) on a stack
 * given inline (Compose YAML text or object) or by path; replies with per-container results.
 */
import { z } from 'zod';
import { stringify } from 'yaml';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_POLICY, enforceHostPath, enforcePolicy, type Policy } from '../domain/policy.js';
import { desiredContainers } from '../planner/stack/containers.js';
import type { DesiredStack } from '../planner/stack/types.js';
import { loadStackFile, parseStack } from '../stacks/load.js';
import { StackOptionsInput, resolveOptions } from '../stacks/options.js';
import { RunScriptInput, runScript, scriptSpec } from '../stacks/run-script.js';
import { STACK_COMMANDS, runStack } from '../stacks/run-stack.js';
import { boundStack, ensureStackOwnsWhatItUses } from './stack-bounds.js';
import type { ActionDefinition } from './types.js';

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

/** The real path (symlinks resolved) where it exists, else the absolute path as given. */
function realOrResolved(path: string): string {
  try {
    return realpathSync(resolve(path));
  } catch {
    return resolve(path);
  }
}

/**
 * Loads the message's stack. Host files are read only below the policy's build_roots —
 * the stack file itself (`stack.path`), a `.env` beside it and any env_file — so a
 * message cannot make the agent read arbitrary host files; symlinks are resolved first.
 */
export function loadStackOf(m: StackMessageT, policy: Policy = DEFAULT_POLICY): DesiredStack {
  const nameOpt = { ...(m.name ? { name: m.name } : {}), env: m.variables ?? {} };
  const readGuard = (path: string, field: string) => enforceHostPath(policy, realOrResolved(path), policy.build_roots, `stack.${field}`);
  if ('path' in m.stack) {
    enforceHostPath(policy, realOrResolved(m.stack.path), policy.build_roots, 'stack.path');
    return loadStackFile(m.stack.path, { ...nameOpt, readGuard });
  }
  const text = typeof m.stack.inline === 'string' ? m.stack.inline : stringify(m.stack.inline);
  return parseStack(text, { ...nameOpt, fileLabel: 'stack.inline', readGuard, ...(m.stack.base_dir ? { baseDir: m.stack.base_dir } : {}) });
}

/** Whoever can publish must not own the host: every container the stack can make passes the policy. */
export function enforceStackPolicy(policy: Policy, stack: DesiredStack): void {
  for (const svc of Object.values(stack.services)) {
    for (const c of desiredContainers(stack, svc)) enforcePolicy(policy, c.spec, `stack.services.${svc.name}.`);
    if (svc.build) enforceHostPath(policy, svc.build.context, policy.build_roots, `stack.services.${svc.name}.build`);
  }
}

export const stackAction: ActionDefinition<typeof StackMessage> = {
  channel: 'stack',
  description: 'Declarative stacks (Compose + x-bosun): plan, up, down, docker-map actions and run_script, with per-container results',
  schema: StackMessage,
  async handle(m, ctx) {
    const stack = boundStack(ctx.policy, loadStackOf(m, ctx.policy));
    enforceStackPolicy(ctx.policy, stack);
    await ensureStackOwnsWhatItUses(ctx.policy, ctx.engine, stack);
    const opts = resolveOptions(m.options);
    if (m.action === 'run_script') {
      const script = m.script!;
      enforcePolicy(ctx.policy, scriptSpec(stack, RunScriptInput.parse(script)), 'script.');
      const r = await runScript(ctx.engine, stack, script, opts, ctx.signal);
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
  },
};

