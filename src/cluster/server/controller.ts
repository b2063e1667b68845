/**
 * The controller loop: holds the leader lease, reads desired + observed state from the
 * store, asks the pure reconciler for a plan, records it (fenced by lease epoch) and sends
 * the orders to the nodes. Followers only renew their bid for the lease.
 * A new leader counts every node's heartbeat from its own start (no false alarms on failover).
 */
import { toBosunError } from '../../domain/errors.js';
import type { ClusterStore, ServiceStatus } from '../../ports/store.js';
import type { Transport } from '../../ports/transport.js';
import { reconcile } from '../../planner/cluster/reconcile.js';
import { replicaKey } from '../../planner/cluster/observe.js';
import type { Plan, PlannerConfig, Replica, ServiceSpec } from '../../domain/cluster.js';
import { sleep } from '../../util/abort.js';
import type { Logger } from '../../util/log.js';
import { sendToNode, type RunMessage, type StopMessage } from '../protocol.js';
import type { Sealer } from '../seal.js';
import type { ClusterMetrics } from './metrics.js';

export const LEASE_NAME = 'controller';
const PRUNE_EVERY_MS = 30_000;

export interface ControllerOptions {
  store: ClusterStore;
  transport: Transport;
  /** Seals every order for its node (seal.ts). */
  sealer: Sealer;
  log: Logger;
  holder: string;
  tickMs?: number;
  leaseTtlMs?: number;
  planner?: Partial<PlannerConfig> & { pendingTimeoutMs?: number };
  now?: () => number;
  /** Finished assignments are kept this long for the API, then pruned. */
  historyMs?: number;
  metrics?: ClusterMetrics;
  /**
   * A replica still pending this long after its run order went out gets the order again (the
   * node treats a repeated generation as the same replica): repairs orders lost in a leader
   * crash between commit and dispatch, or in a failed publish. Default 5 s.
   */
  resendPendingMs?: number;
}

export interface ControllerStatus {
  leader: boolean;
  epoch: number;
  holder: string;
  ticks: number;
  lastTickMs: number;
  lastPlan?: { place: number; stop: number; unplaced: number; delayed: number; deadNodes: string[] };
}

export class Controller {
  private readonly ctl = new AbortController();
  private loop?: Promise<void>;
  private leader = false;
  private epoch = 0;
  private leaderSince = 0;
  private ticks = 0;
  private lastTickMs = 0;
  private lastPlan?: ControllerStatus['lastPlan'];
  private wakeUp?: () => void;
  private lastPrune = 0;
  private readonly statusCache = new Map<string, string>();
  /** replicaKey → when this controller last sent its run order. */
  private readonly lastSent = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly o: ControllerOptions) {
    this.now = o.now ?? Date.now;
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.ctl.abort();
    this.wakeUp?.();
    await this.loop;
    if (this.leader) await this.o.store.releaseLease(LEASE_NAME, this.o.holder).catch(() => undefined);
    this.o.metrics?.setLeader(false);
  }

  /** Reconcile soon (after an API change or a node report) instead of at the next tick. */
  wake(): void {
    this.wakeUp?.();
  }

  status(): ControllerStatus {
    return { leader: this.leader, epoch: this.epoch, holder: this.o.holder, ticks: this.ticks, lastTickMs: this.lastTickMs, ...(this.lastPlan ? { lastPlan: this.lastPlan } : {}) };
  }

  private async run(): Promise<void> {
    const signal = this.ctl.signal;
    const tickMs = this.o.tickMs ?? 250;
    while (!signal.aborted) {
      try {
        await this.bidForLease();
        if (this.leader) await this.tick();
      } catch (e) {
        const err = toBosunError(e);
        this.o.log.warn({ code: err.code, err: err.message }, 'controller tick failed');
      }
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
        void sleep(tickMs, signal).then(resolve);
      });
      this.wakeUp = undefined;
    }
  }

  private async bidForLease(): Promise<void> {
    const lease = await this.o.store.acquireLease(LEASE_NAME, this.o.holder, this.o.leaseTtlMs ?? 3_000);
    if (lease.leader && (!this.leader || lease.epoch !== this.epoch)) {
      this.leaderSince = this.now();
      this.statusCache.clear();
      this.o.log.info({ holder: this.o.holder, epoch: lease.epoch }, 'controller leads');
    } else if (!lease.leader && this.leader) {
      this.o.log.warn({ holder: this.o.holder }, 'controller lost the lease');
    }
    this.leader = lease.leader;
    this.epoch = lease.epoch;
    this.o.metrics?.setLeader(lease.leader);
  }

  /** One reconcile pass; public for tests. */
  async tick(): Promise<Plan> {
    const t0 = performance.now();
    const [services, nodes, replicas] = await Promise.all([this.o.store.listServices(), this.o.store.listNodes(), this.o.store.listReplicas()]);
    const now = this.now();
    const view = nodes.map((n) => ({ ...n, lastHeartbeat: Math.max(n.lastHeartbeat, this.leaderSince) }));
    const plan = reconcile({ services, replicas, nodes: view, now, ...(this.o.planner ? { config: this.o.planner } : {}) });
    if (plan.place.length + plan.stop.length + plan.purge.length > 0) {
      await this.o.store.applyPlan(plan, now, { holder: this.o.holder, epoch: this.epoch });
      await this.dispatch(plan, services);
      this.o.log.info({ place: plan.place.length, stop: plan.stop.length, dead: plan.deadNodes, purge: plan.purge }, 'plan applied');
    }
    await this.resendPending(services, replicas, plan, now);
    await this.publishStatus(services, replicas, plan, now);
    if (now - this.lastPrune > PRUNE_EVERY_MS) {
      this.lastPrune = now;
      const pruned = await this.o.store.pruneHistory(now - (this.o.historyMs ?? 10 * 60_000));
      if (pruned > 0) this.o.log.info({ pruned }, 'old assignment history pruned');
    }
    this.ticks++;
    this.lastTickMs = performance.now() - t0;
    this.o.metrics?.observeTick({ ms: this.lastTickMs, plan, replicas, nodes: nodes.length, services: services.length });
    this.lastPlan = { place: plan.place.length, stop: plan.stop.length, unplaced: plan.unplaced.length, delayed: plan.delayed.length, deadNodes: plan.deadNodes };
    return plan;
  }

  private async resendPending(services: ServiceSpec[], replicas: Replica[], plan: Plan, now: number): Promise<void> {
    const after = this.o.resendPendingMs ?? 5_000;
    const byName = new Map(services.map((s) => [s.name, s]));
    const stopping = new Set(plan.stop.map(replicaKey));
    const live = new Set<string>();
    const sends: Promise<void>[] = [];
    for (const r of replicas) {
      const key = replicaKey(r);
      if (r.desired !== 'run' || r.state !== 'pending') continue;
      live.add(key);
      const svc = byName.get(r.service);
      const since = Math.max(r.updatedAt, this.lastSent.get(key) ?? 0);
      if (!svc || stopping.has(key) || now - since < after || r.specVersion !== svc.version) continue;
      this.lastSent.set(key, now);
      const msg: RunMessage = { type: 'run', service: r.service, slot: r.slot, generation: r.generation, specVersion: r.specVersion, container: svc.container };
      sends.push(sendToNode(this.o.transport, this.o.sealer, r.node, msg));
    }
    for (const k of this.lastSent.keys()) if (!live.has(k)) this.lastSent.delete(k);
    if (sends.length > 0) {
      const failed = (await Promise.allSettled(sends)).filter((x) => x.status === 'rejected').length;
      this.o.log.info({ resent: sends.length, failed }, 'run orders of replicas still pending sent again');
    }
  }

  private async dispatch(plan: Plan, services: ServiceSpec[]): Promise<void> {
    const byName = new Map(services.map((s) => [s.name, s]));
    const sends: Promise<void>[] = [];
    for (const s of plan.stop) {
      // sent to dead nodes too: their queue is durable, so the order waits for them (and their
      // first heartbeat fences whatever it lists as well)
      const msg: StopMessage = { type: 'stop', service: s.service, slot: s.slot, generation: s.generation, reason: s.reason };
      sends.push(sendToNode(this.o.transport, this.o.sealer, s.node, msg));
    }
    for (const p of plan.place) {
      const svc = byName.get(p.service);
      if (!svc) continue;
      const msg: RunMessage = { type: 'run', service: p.service, slot: p.slot, generation: p.generation, specVersion: p.specVersion, container: svc.container };
      sends.push(sendToNode(this.o.transport, this.o.sealer, p.node, msg));
    }
    const results = await Promise.allSettled(sends);
    const failed = results.filter((r) => r.status === 'rejected').length;
    // Unsent orders are repaired later: a pending replica times out, a stale one is fenced by heartbeat.
    if (failed > 0) this.o.log.warn({ failed }, 'some orders could not be sent');
  }

  private async publishStatus(services: ServiceSpec[], replicas: Replica[], plan: Plan, now: number): Promise<void> {
    for (const svc of services) {
      if (plan.purge.includes(svc.name)) continue;
      const live = replicas.filter((r) => r.service === svc.name && r.desired === 'run');
      const lastFailure = new Map<number, string>();
      for (const r of replicas) if (r.service === svc.name && r.state === 'failed' && r.reason) lastFailure.set(r.slot, r.reason);
      const status: ServiceStatus = {
        running: live.filter((r) => r.state === 'running').length,
        pending: live.filter((r) => r.state === 'pending').length,
        outdated: live.filter((r) => r.specVersion < svc.version).length,
        unplaced: plan.unplaced.filter((u) => u.service === svc.name).map((u) => ({ slot: u.slot, reason: u.reason })),
        delayed: plan.delayed.filter((d) => d.service === svc.name).map((d) => {
          const lastReason = lastFailure.get(d.slot);
          return { slot: d.slot, notBefore: d.notBefore, ...(lastReason ? { lastReason } : {}) };
        }),
      };
      const key = JSON.stringify(status);
      if (this.statusCache.get(svc.name) === key) continue;
      this.statusCache.set(svc.name, key);
      await this.o.store.setServiceStatus(svc.name, { ...status, at: now });
    }
  }
}
