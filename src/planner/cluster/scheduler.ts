/**
 * Pure scheduler: picks a node for one replica. Feasibility is a chain of small checkers
 * (cheap first), each naming why it refused a node; ranking spreads a service's replicas
 * (fewest of this service, then fewest overall, then most free memory).
 */
import type { Constraint, ContainerTemplate, NodeView, RefusalCounts, Resources, ServiceSpec } from '../../domain/cluster.js';
import { NO_RESOURCES } from '../../domain/cluster.js';

interface NodeSlot {
  node: NodeView;
  /** Free resources minus what this plan (and pending assignments) already took. */
  free: Resources;
  total: number;
  perService: Map<string, number>;
  /** Host ports ("8080/tcp") bound by replicas on this node → how many replicas of which service hold each. */
  hostPorts: Map<string, Map<string, number>>;
}

/** The host ports a replica binds ("hostPort:containerPort[/proto]" with a host part), as "port/proto". */
export function hostPortsOf(t: Pick<ContainerTemplate, 'ports'> | undefined): string[] {
  return (t?.ports ?? []).flatMap((p) => {
    const i = p.lastIndexOf(':');
    if (i <= 0) return [];
    const host = p.slice(0, i).split(':').at(-1)!;
    const proto = p.slice(i + 1).split('/')[1] ?? 'tcp';
    return host ? [`${host}/${proto}`] : [];
  });
}

interface PickContext {
  /** Host ports `svc` binds (computed once per pick). */
  ports: string[];
  /** A node where a replica of `svc` is about to stop (rolling update), so its host ports will be free. */
  releasing?: string;
}

export type Checker = (n: NodeSlot, svc: ServiceSpec, ctx: PickContext) => string | undefined;

export function constraintMatches(c: Constraint, labels: Record<string, string>): boolean {
  const v = labels[c.label];
  return c.op === '=' ? v === c.value : v !== c.value;
}

const checkers: Checker[] = [
  (n) => (n.node.status === 'ready' ? undefined : `node ${n.node.status}`),
  (n, svc) => {
    for (const c of svc.constraints) if (!constraintMatches(c, n.node.labels)) return `constraint ${c.label}${c.op}${c.value}`;
    return undefined;
  },
  (n, svc) => {
    const need = svc.container.resources ?? NO_RESOURCES;
    if (need.cpu > n.free.cpu) return 'insufficient cpu';
    if (need.memMb > n.free.memMb) return 'insufficient memory';
    if (need.diskMb > n.free.diskMb) return 'insufficient disk';
    return undefined;
  },
  (n, svc, ctx) => {
    if (ctx.ports.length === 0) return undefined;
    const taken = ctx.ports.find((p) => {
      const holders = n.hostPorts.get(p);
      if (!holders) return false;
      // on the node a replica of svc is leaving, a port only svc holds (once) becomes free
      const onlyLeaving = n.node.name === ctx.releasing && holders.size === 1 && holders.get(svc.name) === 1;
      return !onlyLeaving;
    });
    return taken ? `host port ${taken} in use` : undefined;
  },
];

export interface PickResult {
  node?: string;
  score: number[];
  refused: RefusalCounts;
  feasible: number;
}

/** Holds the usage picture of one planning pass; `take` records each decision. */
export class Scheduler {
  private readonly slots: NodeSlot[];
  private readonly byName = new Map<string, NodeSlot>();

  /** `nodes` must be the live ones only (the reconciler drops dead nodes first). */
  constructor(nodes: readonly NodeView[]) {
    this.slots = [...nodes]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((node) => ({ node, free: { ...node.free }, total: 0, perService: new Map(), hostPorts: new Map<string, Map<string, number>>() }));
    for (const s of this.slots) this.byName.set(s.node.name, s);
  }

  /** Counts an existing live replica: its host ports and (if its node has not reported it yet) its resources. */
  account(node: string, service: string, template: Pick<ContainerTemplate, 'resources' | 'ports'> | undefined, pending: boolean): void {
    const s = this.byName.get(node);
    if (!s) return;
    s.total++;
    s.perService.set(service, (s.perService.get(service) ?? 0) + 1);
    for (const p of hostPortsOf(template)) {
      const holders = s.hostPorts.get(p) ?? new Map<string, number>();
      holders.set(service, (holders.get(service) ?? 0) + 1);
      s.hostPorts.set(p, holders);
    }
    if (pending && template?.resources) subtract(s.free, template.resources);
  }

  /** Would `svc` fit anywhere, excluding `exclude`? Does not record anything. */
  pick(svc: ServiceSpec, exclude?: string, releasing?: string): PickResult {
    const refused: RefusalCounts = {};
    let best: NodeSlot | undefined;
    let bestScore: number[] = [];
    let feasible = 0;
    const ctx: PickContext = { ports: hostPortsOf(svc.container), ...(releasing ? { releasing } : {}) };
    for (const s of this.slots) {
      if (s.node.name === exclude) {
        refused['replaced node'] = (refused['replaced node'] ?? 0) + 1;
        continue;
      }
      let why: string | undefined;
      for (const check of checkers) {
        why = check(s, svc, ctx);
        if (why) break;
      }
      if (why) {
        refused[why] = (refused[why] ?? 0) + 1;
        continue;
      }
      feasible++;
      const score = [s.perService.get(svc.name) ?? 0, s.total, -s.free.memMb];
      if (!best || lessThan(score, bestScore)) {
        best = s;
        bestScore = score;
      }
    }
    return best ? { node: best.node.name, score: bestScore, refused, feasible } : { score: [], refused, feasible };
  }

  /** Records that one replica of `svc` goes to `node`. */
  take(svc: ServiceSpec, node: string): void {
    this.account(node, svc.name, svc.container, true);
  }
}

function subtract(free: Resources, r: Resources): void {
  free.cpu -= r.cpu;
  free.memMb -= r.memMb;
  free.diskMb -= r.diskMb;
}

function lessThan(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x < y;
  }
  return false;
}
