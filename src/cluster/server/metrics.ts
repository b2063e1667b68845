/**
 * Prometheus metrics of one `bosun server`: whether it leads, how long reconcile passes
 * take, what they decide (placements, stops by kind, unplaced/delayed replicas, dead nodes),
 * and the replica and node counts the leader last saw.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Plan, Replica } from '../../domain/cluster.js';

export interface ClusterMetrics {
  registry: Registry;
  setLeader(leader: boolean): void;
  observeTick(o: { ms: number; plan: Plan; replicas: readonly Replica[]; nodes: number; services: number }): void;
  reportRejected(reason: string): void;
}

export function createClusterMetrics(): ClusterMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'bosun_server_' });
  const registers = [registry];
  const leader = new Gauge({ name: 'bosun_cluster_leader', help: '1 while this server holds the controller lease', registers });
  const tick = new Histogram({ name: 'bosun_cluster_reconcile_seconds', help: 'Duration of one controller pass (read, plan, record, dispatch)', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers });
  const placements = new Counter({ name: 'bosun_cluster_placements_total', help: 'Replicas placed on nodes', registers });
  const stops = new Counter({ name: 'bosun_cluster_stops_total', help: 'Replicas stopped, by what they were marked', labelNames: ['mark'], registers });
  const unplaced = new Gauge({ name: 'bosun_cluster_unplaced_replicas', help: 'Replicas no node could take at the last pass', registers });
  const delayed = new Gauge({ name: 'bosun_cluster_delayed_replicas', help: 'Replicas waiting out a restart backoff', registers });
  const deadNodes = new Gauge({ name: 'bosun_cluster_dead_nodes', help: 'Nodes past their heartbeat grace at the last pass', registers });
  const nodes = new Gauge({ name: 'bosun_cluster_nodes', help: 'Nodes known to the store', registers });
  const services = new Gauge({ name: 'bosun_cluster_services', help: 'Services known to the store', registers });
  const replicas = new Gauge({ name: 'bosun_cluster_replicas', help: 'Replicas meant to run, by state', labelNames: ['state'], registers });
  const rejected = new Counter({ name: 'bosun_cluster_reports_rejected_total', help: 'Node reports refused unread: unsigned, bad signature, stale, replayed, misaddressed, or invalid', labelNames: ['reason'], registers });
  const leaderViews = [unplaced, delayed, deadNodes, nodes, services];
  leader.set(0);
  return {
    registry,
    reportRejected: (reason) => rejected.inc({ reason }),
    setLeader(l) {
      leader.set(l ? 1 : 0);
      // only the leader's view is current; a follower exports none rather than a stale one
      if (!l) {
        for (const g of leaderViews) g.reset();
        replicas.reset();
      }
    },
    observeTick(o) {
      tick.observe(o.ms / 1000);
      placements.inc(o.plan.place.length);
      for (const s of o.plan.stop) stops.inc({ mark: s.markAs });
      unplaced.set(o.plan.unplaced.length);
      delayed.set(o.plan.delayed.length);
      deadNodes.set(o.plan.deadNodes.length);
      nodes.set(o.nodes);
      services.set(o.services);
      const byState = new Map<string, number>();
      for (const r of o.replicas) if (r.desired === 'run') byState.set(r.state, (byState.get(r.state) ?? 0) + 1);
      replicas.reset();
      for (const [state, n] of byState) replicas.set({ state }, n);
    },
  };
}
