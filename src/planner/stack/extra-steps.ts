/** The stack planner's step for containers no desired container accounts for (scaled down, orphans). Pure. */
import { LABEL } from '../../domain/labels.js';
import type { ContainerOp, ContainerStep, StackActionName } from '../../domain/stack.js';
import { desiredContainers } from './containers.js';
import { dependencyGraph, reverseGraph } from './graph.js';
import { DOWN_ACTIONS, isUp, type Ctx } from './plan-context.js';

const SCALING_ACTIONS: ReadonlySet<StackActionName> = new Set(['update', 'startup']);

/**
 * Containers of the stack that no desired container accounts for: instances beyond the
 * configured count (scaled down: removed by update/startup, handled with their service by
 * stop/shutdown/remove) and orphans of services gone from the file (removed only with
 * remove_orphans, else reported). Down actions order them before their service's
 * dependencies. Up actions remove surplus instances once the service's configured containers
 * are done — unless the service makes new containers (renamed by replicas, say), which then
 * start only after the old ones are gone, as they start after removed orphans, so that a
 * host port or a container name is never held twice.
 */
export function extraSteps(ctx: Ctx, action: StackActionName, selected: Set<string>, explicit: Set<string>, planned: Map<string, ContainerStep>): ContainerStep[] {
  const out: ContainerStep[] = [];
  const g = dependencyGraph(ctx.stack.services);
  const reversed = reverseGraph(g);
  const namesOf = (svc: string) => [...planned.values()].filter((s) => s.service === svc).map((s) => s.container);
  const creates = (s: ContainerStep) => s.ops.some((op) => op.op === 'create');
  const goesFirst = (name: string, before: ContainerStep[]) => {
    for (const s of before) if (!s.after.includes(name)) s.after.push(name);
  };
  const configured = new Set(Object.values(ctx.stack.services).flatMap((s) => desiredContainers(ctx.stack, s).map((d) => d.name)));
  for (const o of ctx.byName.values()) {
    if (planned.has(o.name)) continue;
    const service = o.labels[LABEL.service] ?? '';
    const instance = o.labels[LABEL.instance] ?? '';
    const svc = ctx.stack.services[service];
    if (configured.has(o.name)) continue; // configured, just not selected by this action
    const teardown: ContainerOp[] = [...(isUp(o) ? [{ op: 'stop' as const }] : []), { op: 'remove' as const }];
    const step = (ops: ContainerOp[], reasons: string[], after: string[]): ContainerStep => ({ container: o.name, service, instance, existingId: o.id, ops, reasons, after, waitFor: [] });
    if (!svc) {
      const removeIt = ctx.opts.remove_orphans && (SCALING_ACTIONS.has(action) || action === 'shutdown' || action === 'remove');
      if (!opScope(ctx, action)) continue;
      out.push(step(removeIt ? teardown : [], [`orphan: service "${service}" is not in the stack file${removeIt ? '' : ' (remove_orphans removes it)'}`], []));
      if (removeIt) goesFirst(o.name, [...planned.values()].filter(creates));
      continue;
    }
    if (!selected.has(service) || (ctx.opts.instances?.length && explicit.has(service) && !ctx.opts.instances.includes(instance))) continue;
    const reason = `instance "${instance}" is no longer configured (scaled down)`;
    if (SCALING_ACTIONS.has(action)) {
      const ops = svc.persistent && !ctx.opts.remove_persistent ? [] : teardown;
      const fresh = [...planned.values()].filter((s) => s.service === service && creates(s));
      if (fresh.length && ops.length) {
        out.push(step(ops, [reason], []));
        goesFirst(o.name, fresh);
      } else out.push(step(ops, [reason], namesOf(service)));
    }
    else if (DOWN_ACTIONS.has(action)) {
      const ops = action === 'stop' ? (isUp(o) ? [{ op: 'stop' as const }] : []) : svc.persistent && !ctx.opts.remove_persistent ? [] : action === 'remove' && isUp(o) ? [] : teardown;
      out.push(step(ops, [reason], (reversed.get(service) ?? []).filter((n) => selected.has(n)).flatMap(namesOf)));
      // the service's dependencies must wait for this one too
      goesFirst(o.name, (g.get(service) ?? []).flatMap(namesOf).map((n) => planned.get(n)!));
    }
  }
  return out;
}

/** Orphans are only mentioned by actions over the whole stack. */
function opScope(ctx: Ctx, action: StackActionName): boolean {
  return !ctx.opts.services?.length && action !== 'pull' && action !== 'signal' && action !== 'restart';
}
