/**
 * Fetches what the planner needs from the engine — the stack's containers (inspected),
 * their processes where exec commands are checked, and the current id of each image —
 * so the planner itself does no I/O (list once, then build purely).
 */
import type { ContainerEngine } from '../ports/engine.js';
import { LABEL } from '../domain/labels.js';
import type { DesiredStack, ObservedContainer, ObservedState, StackOptions } from '../domain/stack.js';

export async function observeStack(engine: ContainerEngine, stack: DesiredStack, opts: Pick<StackOptions, 'check_exec_commands'>): Promise<ObservedState> {
  const [list, imageEntries, capabilities] = await Promise.all([
    engine.containers.list({ all: true, labels: { [LABEL.stack]: stack.name } }),
    Promise.all([...new Set(Object.values(stack.services).map((s) => s.image))].map(async (ref) => [ref, (await engine.images.inspect(ref))?.id] as const)),
    engine.capabilities(),
  ]);
  const withExec = new Set(Object.values(stack.services).filter((s) => s.execCommands.length > 0).map((s) => s.name));
  const containers = await Promise.all(
    list.map(async (c): Promise<ObservedContainer | undefined> => {
      const d = await engine.containers.inspect(c.id);
      if (!d) return undefined;
      const checkProcesses = opts.check_exec_commands !== 'none' && d.state.running && withExec.has(d.labels[LABEL.service] ?? '');
      return checkProcesses ? { ...d, processes: await engine.containers.top(d.id).catch(() => []) } : d;
    }),
  );
  const found = containers.filter((c): c is ObservedContainer => c !== undefined);
  return {
    containers: found,
    images: Object.fromEntries(imageEntries),
    containerIds: await networkModeTargets(engine, stack, found),
    inPlaceUpdate: capabilities.inPlaceUpdate,
  };
}

/** Ids of the containers `container:NAME` network modes name (the stack's own, or outside it). */
async function networkModeTargets(engine: ContainerEngine, stack: DesiredStack, own: ObservedContainer[]): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const c of own) ids[c.name] = c.id;
  const outside = Object.values(stack.services)
    .map((s) => s.container.networkMode)
    .filter((m): m is string => m?.startsWith('container:') === true)
    .map((m) => m.slice('container:'.length))
    .filter((name) => !(name in ids));
  for (const name of new Set(outside)) {
    const d = await engine.containers.inspect(name);
    if (d) ids[name] = d.id;
  }
  return ids;
}
