/**
 * The stack planner: (action, desired stack, observed state, options) → a plan of
 * per-container steps, each with its engine operations, the reasons for them, and the
 * steps it must wait for. Pure: the executor carries the plan out.
 */
import { LABEL } from '../../domain/labels.js';
import { desiredContainers, type DesiredContainer } from './containers.js';
import { detectDrift } from './drift.js';
import { closure, dependencyGraph, reverseGraph, topoOrder } from './graph.js';
import type { ContainerOp, ContainerStep, DesiredService, DesiredStack, ObservedContainer, ObservedState, StackActionName, StackOptions, StackPlan } from '../../domain/stack.js';
import { extraSteps } from './extra-steps.js';
import { DOWN_ACTIONS, UP_ACTIONS, isUp, type Ctx } from './plan-context.js';

function nonrecoverable(o: ObservedContainer, codes: number[]): boolean {
  if (o.state.running || o.state.status === 'created') return false;
  return codes.some((c) => c === o.state.exitCode || (c & 0xff) === (o.state.exitCode & 0xff));
}

function selectedServices(stack: DesiredStack, action: StackActionName, opts: StackOptions): Set<string> {
  const all = Object.keys(stack.services);
  const requested = opts.services?.length ? opts.services : all;
  const g = dependencyGraph(stack.services);
  if (UP_ACTIONS.has(action)) return closure(g, requested);
  if (DOWN_ACTIONS.has(action)) return closure(reverseGraph(g), requested);
  return new Set(requested);
}

function instanceSelected(svc: DesiredService, instance: string, explicit: boolean, opts: StackOptions): boolean {
  if (!opts.instances?.length || !explicit) return true;
  if (!svc.instances.some((i) => opts.instances!.includes(i))) return true;
  return opts.instances.includes(instance);
}

function imageOps(ctx: Ctx, svc: DesiredService): ContainerOp[] {
  if (ctx.observed.images[svc.image] !== undefined) return [];
  return svc.build ? [{ op: 'build' }] : [{ op: 'pull' }];
}

function execOps(svc: DesiredService, which: 'all' | 'restart'): ContainerOp[] {
  return svc.execCommands.filter((c) => which === 'all' || c.policy === 'restart').map((command) => ({ op: 'exec' as const, command }));
}

function freshOps(ctx: Ctx, svc: DesiredService, o: ObservedContainer | undefined): ContainerOp[] {
  const teardown: ContainerOp[] = o ? [...(isUp(o) ? [{ op: 'stop' as const }] : []), { op: 'remove' as const }] : [];
  return [...imageOps(ctx, svc), ...teardown, { op: 'create' }, { op: 'start' }, ...execOps(svc, 'all')];
}

function updateOps(ctx: Ctx, svc: DesiredService, d: DesiredContainer, o: ObservedContainer | undefined, reasons: string[]): ContainerOp[] {
  if (!o) {
    reasons.push('missing');
    return freshOps(ctx, svc, undefined);
  }
  const codes = svc.nonrecoverableExitCodes ?? ctx.opts.nonrecoverable_exit_codes;
  const drift = detectDrift({
    desired: d, observed: o, imageId: ctx.observed.images[svc.image], skipLimitReset: ctx.opts.skip_limit_reset,
    execCommands: svc.execCommands, checkExec: ctx.opts.check_exec_commands, ...(ctx.observed.containerIds ? { containerIds: ctx.observed.containerIds } : {}),
  });
  const recreate = [...drift.recreate];
  if (drift.inPlace && ctx.observed.inPlaceUpdate === false) recreate.push(...drift.inPlace.reasons.map((r) => `${r} (the engine cannot update in place)`));
  if (ctx.opts.force_update.includes(svc.name)) recreate.push('force_update');
  if (nonrecoverable(o, codes)) recreate.push(`exited with non-recoverable code ${o.state.exitCode}`);
  if (recreate.length && svc.persistent && !ctx.opts.update_persistent) {
    reasons.push(`persistent, not recreated (update_persistent=false) despite: ${recreate.join('; ')}`);
  } else if (recreate.length) {
    reasons.push(...recreate);
    return freshOps(ctx, svc, o);
  }
  const ops: ContainerOp[] = [];
  if (drift.inPlace && ctx.observed.inPlaceUpdate !== false) {
    ops.push({ op: 'update_in_place', ...(drift.inPlace.resources ? { resources: drift.inPlace.resources } : {}), ...(drift.inPlace.restartPolicy ? { restartPolicy: drift.inPlace.restartPolicy } : {}) });
    reasons.push(...drift.inPlace.reasons.map((r) => `${r} (in place)`));
  }
  for (const n of drift.disconnect) ops.push({ op: 'disconnect', network: n });
  for (const c of drift.connect) ops.push({ op: 'connect', network: c.network, aliases: c.aliases });
  reasons.push(...drift.networkReasons);
  const oneShotDone = ctx.completedOnceServices.has(svc.name) && o.state.status === 'exited' && o.state.exitCode === 0;
  if (!isUp(o) && !oneShotDone) {
    reasons.push(`not running (${o.state.status})`);
    ops.push({ op: 'start' }, ...execOps(svc, 'restart'));
  } else if (drift.missingExec.length) {
    reasons.push(...drift.missingExec.map((c) => `exec command missing: ${c.cmd.join(' ')}`));
    ops.push(...drift.missingExec.map((command) => ({ op: 'exec' as const, command })));
  }
  return ops;
}

function opsFor(ctx: Ctx, action: StackActionName, svc: DesiredService, d: DesiredContainer, o: ObservedContainer | undefined, reasons: string[]): ContainerOp[] {
  const skipPersistent = svc.persistent && !ctx.opts.remove_persistent;
  switch (action) {
    case 'create':
      if (o) return reasons.push('exists'), [];
      reasons.push('missing');
      return [...imageOps(ctx, svc), { op: 'create' }];
    case 'start':
      if (!o) return reasons.push('missing (use create or startup)'), [];
      if (isUp(o)) return [];
      if (svc.persistent && o.state.status === 'exited') return reasons.push('persistent container exited; not restarted'), [];
      reasons.push(`not running (${o.state.status})`);
      return [{ op: 'start' }, ...execOps(svc, o.state.status === 'created' ? 'all' : 'restart')];
    case 'restart':
      if (!o) return reasons.push('missing'), [];
      return [{ op: 'restart' }, ...(ctx.opts.restart_exec_commands ? execOps(svc, 'restart') : [])];
    case 'stop':
      return isUp(o) ? [{ op: 'stop' }] : [];
    case 'remove':
    case 'shutdown':
      if (!o) return [];
      if (skipPersistent) return reasons.push('persistent (remove_persistent=false)'), [];
      if (action === 'remove' && isUp(o)) return reasons.push('running; stop it first or use shutdown'), [];
      return [...(isUp(o) ? [{ op: 'stop' as const }] : []), { op: 'remove' }];
    case 'startup':
      if (o && nonrecoverable(o, svc.nonrecoverableExitCodes ?? ctx.opts.nonrecoverable_exit_codes)) {
        reasons.push(`exited with non-recoverable code ${o.state.exitCode}`);
        return freshOps(ctx, svc, o);
      }
      if (!o) return reasons.push('missing'), freshOps(ctx, svc, undefined);
      if (isUp(o)) return [];
      reasons.push(`not running (${o.state.status})`);
      return [{ op: 'start' }, ...execOps(svc, o.state.status === 'created' ? 'all' : 'restart')];
    case 'update':
      return updateOps(ctx, svc, d, o, reasons);
    case 'signal':
      return isUp(o) ? [{ op: 'kill', signal: ctx.opts.signal }] : [];
    case 'pull':
      return [];
  }
}

function dependentsIndex(stack: DesiredStack): { restart: Map<string, string[]>; links: Map<string, string[]>; completedOnce: Set<string> } {
  const restart = new Map<string, string[]>();
  const links = new Map<string, string[]>();
  const completedOnce = new Set<string>();
  for (const s of Object.values(stack.services)) {
    for (const d of s.dependsOn) {
      if (d.restart) restart.set(d.service, [...(restart.get(d.service) ?? []), s.name]);
      if (d.condition === 'service_completed_successfully') completedOnce.add(d.service);
    }
    for (const l of s.links) links.set(l.service, [...(links.get(l.service) ?? []), s.name]);
  }
  return { restart, links, completedOnce };
}

/** Compose `restart: true` and legacy links: what must follow a recreated container. */
function propagateRecreates(ctx: Ctx, steps: Map<string, ContainerStep>, order: string[]): void {
  const recreatedServices = new Set<string>();
  for (const svcName of order) {
    const svc = ctx.stack.services[svcName]!;
    for (const step of [...steps.values()].filter((s) => s.service === svcName)) {
      const recreated = step.existingId !== undefined && step.ops.some((o) => o.op === 'create');
      if (recreated) { recreatedServices.add(svcName); continue; }
      const o = ctx.byName.get(step.container);
      if (!o) continue;
      // a link or a shared network namespace points at the old container: recreate too
      const linked = [...svc.links.map((l) => l.service), ...(svc.networkModeService ? [svc.networkModeService] : [])].filter((s) => recreatedServices.has(s));
      if (linked.length) {
        if (svc.persistent && !ctx.opts.update_persistent) {
          step.reasons.push(`persistent, not recreated despite recreated link(s) ${linked.join(', ')}`);
          continue;
        }
        step.reasons.push(`linked service recreated: ${linked.join(', ')}`);
        step.ops = freshOps(ctx, svc, o);
        recreatedServices.add(svcName);
        continue;
      }
      const restartOn = svc.dependsOn.filter((d) => d.restart && recreatedServices.has(d.service)).map((d) => d.service);
      if (restartOn.length && isUp(o) && !step.ops.some((op) => op.op === 'start' || op.op === 'restart')) {
        step.reasons.push(`dependency recreated (restart: true): ${restartOn.join(', ')}`);
        step.ops = [...step.ops, { op: 'restart' }];
      }
    }
  }
}

export function planStackAction(action: StackActionName, stack: DesiredStack, observed: ObservedState, opts: StackOptions): StackPlan {
  const idx = dependentsIndex(stack);
  const byName = new Map<string, ObservedContainer>();
  for (const c of observed.containers) if (c.labels[LABEL.stack] === stack.name) byName.set(c.name, c);
  const ctx: Ctx = { stack, observed, opts, byName, restartDependents: idx.restart, linkDependents: idx.links, completedOnceServices: idx.completedOnce };
  const selected = selectedServices(stack, action, opts);
  const explicit = new Set(opts.services?.length ? opts.services : Object.keys(stack.services));
  const g = dependencyGraph(stack.services);
  const order = topoOrder(g).filter((s) => selected.has(s));
  const containersOf = new Map<string, DesiredContainer[]>();
  for (const s of order) {
    const svc = stack.services[s]!;
    containersOf.set(s, desiredContainers(stack, svc).filter((c) => instanceSelected(svc, c.instance, explicit.has(s), opts)));
  }
  const plan: StackPlan = { stack: stack.name, action, networks: stack.networks, volumes: stack.volumes, steps: [], removeVolumes: [] };
  if (action === 'pull') {
    const seen = new Set<string>();
    for (const s of order) {
      const svc = stack.services[s]!;
      if (svc.build || seen.has(svc.image)) continue;
      seen.add(svc.image);
      const present = observed.images[svc.image] !== undefined;
      const pull = opts.pull_all_images || !present;
      plan.steps.push({ container: svc.image, service: s, instance: '', ops: pull ? [{ op: 'pull' }] : [], reasons: pull ? [present ? 'pull_all_images' : 'image missing'] : ['present'], after: [], waitFor: [] });
    }
    return plan;
  }
  const reversed = reverseGraph(g);
  const steps = new Map<string, ContainerStep>();
  for (const s of order) {
    const svc = stack.services[s]!;
    const neighbours = DOWN_ACTIONS.has(action) ? (reversed.get(s) ?? []) : (g.get(s) ?? []);
    const after = neighbours.filter((n) => selected.has(n)).flatMap((n) => (containersOf.get(n) ?? []).map((c) => c.name));
    for (const d of containersOf.get(s) ?? []) {
      const o = byName.get(d.name);
      const reasons: string[] = [];
      const ops = opsFor(ctx, action, svc, d, o, reasons);
      const waitFor = UP_ACTIONS.has(action)
        ? svc.dependsOn.flatMap((dep) => (containersOf.get(dep.service) ?? []).map((c) => ({ container: c.name, condition: dep.condition })))
        : [];
      steps.set(d.name, { container: d.name, service: s, instance: d.instance, ...(o ? { existingId: o.id } : {}), ops, reasons, after, waitFor, spec: d.spec });
    }
    if ((action === 'remove' || action === 'shutdown') && opts.remove_attached && !(svc.persistent && !opts.remove_persistent)) {
      plan.removeVolumes.push(...stack.volumes.filter((v) => v.attachedTo === s).map((v) => v.name));
    }
  }
  if (action === 'update') propagateRecreates(ctx, steps, order);
  for (const extra of extraSteps(ctx, action, selected, explicit, steps)) steps.set(extra.container, extra);
  plan.steps = [...steps.values()];
  return plan;
}

/** True when the plan would change nothing on the engine. */
export function planIsEmpty(plan: StackPlan): boolean {
  return plan.steps.every((s) => s.ops.length === 0) && plan.removeVolumes.length === 0;
}
