/**
 * One stack action end to end: observe → plan (pure) → execute. Also the CLI's `plan`
 * (update planned, nothing done), `up` (update: create missing, change what drifted, start)
 * and `down` (shutdown, then the stack's own networks).
 */
import type { ContainerEngine } from '../ports/engine.js';
import { LABEL } from '../domain/labels.js';
import { planIsEmpty, planStackAction } from '../planner/stack/plan.js';
import type { DesiredStack, StackActionName, StackOptions, StackPlan } from '../domain/stack.js';
import { StackExecutor, type ContainerResult, type ExecuteOptions } from './execute.js';
import { observeStack } from './observe.js';

export const STACK_COMMANDS = ['plan', 'up', 'down', 'create', 'start', 'restart', 'stop', 'remove', 'startup', 'shutdown', 'update', 'signal', 'pull'] as const;
export type StackCommand = (typeof STACK_COMMANDS)[number];

export interface StackRunResult {
  stack: string;
  action: StackCommand;
  ok: boolean;
  /** Containers changed (status done). */
  changed: number;
  containers: ContainerResult[];
  plan: StackPlan;
}

function actionOf(cmd: StackCommand): StackActionName {
  return cmd === 'plan' || cmd === 'up' ? 'update' : cmd === 'down' ? 'shutdown' : cmd;
}

/** Results as `plan` reports them: nothing done, what would be, and why. */
function planResults(plan: StackPlan): ContainerResult[] {
  return plan.steps.map((s) => ({
    container: s.container, service: s.service, instance: s.instance, status: s.ops.length ? 'done' : 'unchanged',
    done: s.ops.map((o) => (o.op === 'exec' ? `exec ${o.command.cmd.join(' ')}` : o.op === 'connect' || o.op === 'disconnect' ? `${o.op} ${o.network}` : o.op)),
    reasons: s.reasons, ...(s.existingId ? { id: s.existingId } : {}),
  }));
}

export async function runStack(engine: ContainerEngine, stack: DesiredStack, cmd: StackCommand, opts: StackOptions, exec: ExecuteOptions = {}): Promise<StackRunResult> {
  const action = actionOf(cmd);
  const executor = new StackExecutor(engine, stack, exec);
  const pre: ContainerResult[] = [];
  if (action === 'update' && opts.pull_before_update && cmd !== 'plan') {
    const observed = await observeStack(engine, stack, { check_exec_commands: 'none' });
    pre.push(...(await executor.execute(planStackAction('pull', stack, observed, { ...opts, pull_all_images: true }))));
  }
  const observed = await observeStack(engine, stack, opts);
  const plan = planStackAction(action, stack, observed, opts);
  const containers = cmd === 'plan' ? planResults(plan) : await executor.execute(plan);
  if (cmd === 'down' && !opts.services?.length) {
    const left = await engine.containers.list({ all: true, labels: { [LABEL.stack]: stack.name } });
    if (left.length === 0) for (const n of stack.networks.filter((x) => !x.external)) await engine.networks.remove(n.name).catch(() => undefined);
  }
  const all = [...pre, ...containers];
  return {
    stack: stack.name,
    action: cmd,
    ok: all.every((c) => c.status !== 'failed' && c.status !== 'skipped'),
    changed: cmd === 'plan' ? (planIsEmpty(plan) ? 0 : containers.filter((c) => c.status === 'done').length) : containers.filter((c) => c.status === 'done').length,
    containers: all,
    plan,
  };
}
