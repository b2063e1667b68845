/**
 * Node reports (heartbeats and replica changes) → store updates, plus fencing orders for
 * containers that must not run. Every server consumes the reports channel (competing
 * consumers), so reports keep flowing while leadership changes hands.
 */
import { systemClock, type Clock } from '../../ports/clock.js';
import { toBosunError } from '../../domain/errors.js';
import type { ClusterStore } from '../../ports/store.js';
import { ERRORS_CHANNEL, type InboundMessage, type Transport } from '../../ports/transport.js';
import { observe } from '../../planner/cluster/observe.js';
import type { Logger } from '../../util/log.js';
import { parseMessage, sendToNode, toServerMessage, type StopMessage, type ToServerMessage } from '../protocol.js';
import { RejectedMessage, type RejectReason, type Sealer } from '../seal.js';

export interface ReportHandlerOptions {
  store: ClusterStore;
  transport: Transport;
  log: Logger;
  /** Opens reports (refusing unsigned, forged, stale and replayed ones) and seals fencing orders. */
  sealer: Sealer;
  onRejected?: (reason: RejectReason | 'invalid') => void;
  /** Heartbeats older than this (a backlog after a server outage) do not count as liveness. */
  staleHeartbeatMs?: number;
  /** A replica that changed this recently is not failed for missing from a heartbeat (the listing may predate it). */
  absenceGraceMs?: number;
  onChange?: () => void;
  clock?: Clock;
}

export function reportHandler(o: ReportHandlerOptions): (m: InboundMessage) => Promise<void> {
  const clock = o.clock ?? systemClock;
  const now = () => clock.now();
  return async (m) => {
    let msg: ToServerMessage;
    try {
      const opened = o.sealer.open(m.body);
      msg = parseMessage(toServerMessage, opened.body);
      // the shared key proves a cluster member sent it; the report must also be about its sender
      if (opened.from !== undefined && opened.from !== msg.node) throw new RejectedMessage('misaddressed', `report about node ${msg.node} sent by ${opened.from}`, 'node');
    } catch (e) {
      const err = toBosunError(e);
      const reason = e instanceof RejectedMessage ? e.reason : 'invalid';
      o.onRejected?.(reason);
      // a backlog after a server outage is stale by the thousand: counted and dropped, not parked
      if (reason === 'stale') o.log.debug({ reason, err: err.message }, 'stale node report dropped');
      else {
        o.log.warn({ code: err.code, reason, field: err.field, err: err.message }, reason === 'invalid' ? 'malformed node report parked' : 'unauthenticated node report refused and parked');
        await o.transport.publish(ERRORS_CHANNEL, m.body, { declare: true, headers: { error_code: err.code, error: err.message, reason, channel: m.channel } }).catch(() => undefined);
      }
      await m.ack();
      return;
    }
    const t = now();
    // A heartbeat from a backlog (or a node whose clock is off) proves nothing about now: no
    // liveness, and its listing is not taken as complete — but what it lists is still fenced.
    const fresh = msg.type === 'heartbeat' && Math.abs(t - msg.sentAt) <= (o.staleHeartbeatMs ?? 10_000);
    if (msg.type === 'heartbeat') {
      if (fresh) await o.store.recordHeartbeat({ name: msg.node, labels: msg.labels, free: msg.free, at: t });
      else o.log.warn({ node: msg.node, skewMs: t - msg.sentAt }, 'heartbeat too old or node clock off: not counted as liveness');
    }
    const containers = msg.type === 'heartbeat' ? msg.containers : [msg.container];
    const replicas = await o.store.listReplicasForReport(msg.node, containers.map((c) => c.service));
    const obs = observe(msg.node, containers, replicas, fresh, { now: t, absenceGraceMs: o.absenceGraceMs ?? 5_000 });
    await o.store.applyUpdates(obs.updates, t);
    for (const f of obs.fence) {
      const stop: StopMessage = { type: 'stop', service: f.service, slot: f.slot, generation: f.generation, reason: f.reason };
      await sendToNode(o.transport, o.sealer, f.node, stop);
    }
    if (obs.fence.length > 0) o.log.info({ node: msg.node, fenced: obs.fence.map((f) => `${f.service}/${f.slot}/g${f.generation}`) }, 'stale replicas fenced');
    await m.ack();
    if (obs.updates.length > 0) o.onChange?.();
  };
}
