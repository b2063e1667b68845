/**
 * The service dependency graph (depends_on and links): undefined references, cycles,
 * closures in both directions. Pure; set helpers never mutate their input.
 */
export type ServiceGraph = ReadonlyMap<string, readonly string[]>;

/** What the graph reads of a service (a DesiredService, or the same read off raw stack data). */
export interface GraphService {
  name: string;
  dependsOn: readonly { service: string }[];
  links: readonly { service: string }[];
}

/** service → the services it depends on (depends_on ∪ links), deduplicated. */
export function dependencyGraph(services: Record<string, GraphService>): ServiceGraph {
  const g = new Map<string, string[]>();
  for (const s of Object.values(services)) {
    g.set(s.name, [...new Set([...s.dependsOn.map((d) => d.service), ...s.links.map((l) => l.service)])]);
  }
  return g;
}

export interface GraphProblem {
  kind: 'undefined_reference' | 'cycle';
  message: string;
  /** Dotted path to blame, e.g. services.web.depends_on. */
  field: string;
  /** The services it is about: the referrer and the undefined one, or the cycle's members. */
  services: string[];
}

export function graphProblems(services: Record<string, GraphService>): GraphProblem[] {
  const problems: GraphProblem[] = [];
  for (const s of Object.values(services)) {
    for (const d of s.dependsOn) {
      if (!services[d.service]) problems.push({ kind: 'undefined_reference', field: `services.${s.name}.depends_on`, message: `service "${s.name}" depends on undefined service "${d.service}"`, services: [s.name, d.service] });
    }
    for (const l of s.links) {
      if (!services[l.service]) problems.push({ kind: 'undefined_reference', field: `services.${s.name}.links`, message: `service "${s.name}" links to undefined service "${l.service}"`, services: [s.name, l.service] });
    }
  }
  if (problems.length === 0) {
    const cycle = findCycle(dependencyGraph(services));
    if (cycle) problems.push({ kind: 'cycle', field: `services.${cycle[0]}.depends_on`, message: `dependency cycle: ${cycle.join(' -> ')}`, services: [...new Set(cycle)] });
  }
  return problems;
}

/** Returns one cycle as [a, b, …, a], or undefined. */
export function findCycle(g: ServiceGraph): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 'done') return undefined;
    if (state.get(n) === 'visiting') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'visiting');
    stack.push(n);
    for (const d of g.get(n) ?? []) {
      const c = visit(d);
      if (c) return c;
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of [...g.keys()].sort()) {
    const c = visit(n);
    if (c) return c;
  }
  return undefined;
}

export function reverseGraph(g: ServiceGraph): ServiceGraph {
  const r = new Map<string, string[]>();
  for (const n of g.keys()) r.set(n, []);
  for (const [n, deps] of g) for (const d of deps) r.get(d)?.push(n);
  return r;
}

/** `start` plus everything reachable from it in `g` (dependencies, or dependents on a reversed graph). */
export function closure(g: ServiceGraph, start: Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const todo = [...start];
  while (todo.length) {
    const n = todo.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    todo.push(...(g.get(n) ?? []));
  }
  return seen;
}

/** Services in dependency order (dependencies first); ties by name, so the order is stable. */
export function topoOrder(g: ServiceGraph): string[] {
  const out: string[] = [];
  const done = new Set<string>();
  const visit = (n: string) => {
    if (done.has(n)) return;
    done.add(n);
    for (const d of [...(g.get(n) ?? [])].sort()) visit(d);
    out.push(n);
  };
  for (const n of [...g.keys()].sort()) visit(n);
  return out;
}
