/**
 * `bosun node`: executes run/stop orders from its own queue, heartbeats with free
 * resources and a full list of its replicas, and reports container changes from Docker
 * events. Talks only through the broker. Fences by generation: a run order older than
 * what the node already runs for that slot is ignored; a newer one removes the older containers.
 * Orders must be sealed with the cluster key (seal.ts) and every replica passes the node's
 * policy before any engine call; a refused one is reported as failed with the policy error.
 */
import { statfs } from 'node:fs/promises';
import { BosunError, toBosunError } from '../../domain/errors.js';
import { LABEL } from '../../domain/labels.js';
import { DEFAULT_POLICY, type Policy } from '../../domain/policy.js';
import type { ContainerEngine } from '../../ports/engine.js';
import type { ContainerSpec, ContainerSummary, EngineInfo } from '../../domain/engine/index.js';
import { ERRORS_CHANNEL, type InboundMessage, type Subscription, type Transport } from '../../ports/transport.js';
import type { ReportedContainer } from '../../planner/cluster/observe.js';
import type { Resources } from '../../domain/cluster.js';
import { backoffMs, sleep, withTimeout } from '../../util/abort.js';
import type { Logger } from '../../util/log.js';
import {
  NODE_EXCHANGE, REPORTS_CHANNEL, nodeQueue, parseMessage, toNodeMessage, type HeartbeatMessage, type ReplicaMessage, type RunMessage, type StopMessage,
} from '../protocol.js';
import { RejectedMessage, SERVERS, type Sealer } from '../seal.js';
import { createNodeMetrics, type NodeMetrics } from './metrics.js';
import { checkReplicaSpec } from './policy.js';
import { containerSpecFor, identityOf, reportOf, requestedOf } from './spec.js';

export interface NodeAgentOptions {
  name: string;
  engine: ContainerEngine;
  transport: Transport;
  log: Logger;
  /** Opens orders (refusing unsigned, forged, stale and replayed ones) and seals reports. */
  sealer: Sealer;
  /** The host-safety policy every replica must pass; the safe default when absent. */
  policy?: Policy;
  metrics?: NodeMetrics;
  labels?: Record<string, string>;
  heartbeatMs?: number;
  /** Seconds a replica gets to stop before it is killed. */
  stopTimeoutSec?: number;
  pullTimeoutMs?: number;
}

export class NodeAgent {
  private readonly ctl = new AbortController();
  private sub?: Subscription;
  private info?: EngineInfo;
  private readonly slotLocks = new Map<string, Promise<void>>();
  private readonly loops: Promise<void>[] = [];
  private readonly heartbeatMs: number;
  private readonly policy: Policy;
  readonly metrics: NodeMetrics;

  constructor(private readonly o: NodeAgentOptions) {
    this.heartbeatMs = o.heartbeatMs ?? 500;
    this.policy = o.policy ?? DEFAULT_POLICY;
    this.metrics = o.metrics ?? createNodeMetrics();
  }

  async start(): Promise<void> {
    this.info = await this.o.engine.info();
    await this.o.transport.connect();
    await this.o.transport.declareChannel(REPORTS_CHANNEL);
    this.sub = await this.o.transport.consume(nodeQueue(this.o.name), (m) => this.onMessage(m), {
      prefetch: 8,
      bind: { exchange: NODE_EXCHANGE, type: 'topic', routingKey: this.o.name },
    });
    await this.heartbeat();
    this.loops.push(this.heartbeatLoop(), this.eventsLoop());
    this.o.log.info({ node: this.o.name, queue: nodeQueue(this.o.name) }, 'node agent started');
  }

  async stop(): Promise<void> {
    this.ctl.abort();
    await this.sub?.cancel();
    await Promise.allSettled(this.loops);
  }

  private async onMessage(m: InboundMessage): Promise<void> {
    let order: RunMessage | StopMessage;
    try {
      order = parseMessage(toNodeMessage, this.o.sealer.open(m.body).body);
    } catch (e) {
      const err = toBosunError(e);
      const reason = e instanceof RejectedMessage ? e.reason : 'invalid';
      this.metrics.orderRejected(reason);
      this.o.log.warn({ code: err.code, reason, field: err.field, err: err.message }, reason === 'invalid' ? 'malformed order parked' : 'unauthenticated order refused');
      // stale orders (queued while the node was away) are superseded: the server resends or fences
      if (reason !== 'stale') await this.o.transport.publish(ERRORS_CHANNEL, m.body, { declare: true, headers: { error_code: err.code, error: err.message, reason, node: this.o.name } }).catch(() => undefined);
      await m.ack();
      return;
    }
    await this.serialized(`${order.service}/${order.slot}`, () => (order.type === 'run' ? this.run(order) : this.stopSlot(order)));
    await m.ack();
  }

  /** One order per slot at a time; different slots run in parallel. */
  private async serialized(key: string, work: () => Promise<void>): Promise<void> {
    const prev = this.slotLocks.get(key) ?? Promise.resolve();
    const next = prev.then(work).catch((e: unknown) => this.o.log.error({ err: toBosunError(e).message, key }, 'order failed'));
    this.slotLocks.set(key, next);
    await next;
    if (this.slotLocks.get(key) === next) this.slotLocks.delete(key);
  }

  private async slotContainers(service: string, slot: number): Promise<ContainerSummary[]> {
    return this.o.engine.containers.list({ all: true, labels: { [LABEL.node]: this.o.name, [LABEL.service]: service, [LABEL.replica]: String(slot) } });
  }

  private async run(m: RunMessage): Promise<void> {
    const id = { service: m.service, slot: m.slot, generation: m.generation };
    let spec: ContainerSpec;
    try {
      // before anything else, so a refused spec does not even remove the slot's older replica
      spec = await checkReplicaSpec(this.policy, containerSpecFor(m, this.o.name));
    } catch (e) {
      const err = toBosunError(e);
      this.metrics.replicaRefused();
      this.o.log.warn({ ...id, code: err.code, field: err.field, err: err.message }, 'replica refused by the node policy');
      return this.report({ ...id, status: 'start_failed', error: `${err.code}: ${err.message}` });
    }
    const existing = await this.slotContainers(m.service, m.slot);
    const genOf = (c: ContainerSummary) => identityOf(c.labels)?.generation ?? 0;
    if (existing.some((c) => genOf(c) > m.generation)) {
      this.o.log.info({ service: m.service, slot: m.slot, generation: m.generation }, 'stale run order ignored (newer generation here)');
      return;
    }
    for (const c of existing.filter((c) => genOf(c) < m.generation)) await this.remove(c.id);
    // same generation but another spec version: left over from a deleted and re-created
    // service (generations start again), not this replica — replace it
    const foreign = existing.filter((c) => genOf(c) === m.generation && c.labels[LABEL.specHash] !== String(m.specVersion));
    for (const c of foreign) await this.remove(c.id);
    const same = existing.find((c) => genOf(c) === m.generation && c.labels[LABEL.specHash] === String(m.specVersion));
    if (same && same.status === 'running') return this.report({ ...id, status: 'running' });
    try {
      let containerId = same?.id;
      if (!containerId) {
        await this.ensureImage(m.container.image);
        containerId = (await this.o.engine.containers.create(spec)).id;
      }
      await this.o.engine.containers.start(containerId);
    } catch (e) {
      const err = toBosunError(e, 'engine_error');
      this.o.log.warn({ ...id, code: err.code, err: err.message }, 'replica failed to start');
      const leftover = await this.slotContainers(m.service, m.slot);
      for (const c of leftover.filter((c) => genOf(c) === m.generation)) await this.remove(c.id);
      await this.report({ ...id, status: 'start_failed', error: `${err.code}: ${err.message}` });
      return;
    }
    // outside the try: a report that cannot be sent must not remove a container that started
    // (the next heartbeat lists it as running)
    await this.report({ ...id, status: 'running' });
  }

  private async ensureImage(ref: string): Promise<void> {
    if (await this.o.engine.images.inspect(ref)) return;
    try {
      await withTimeout(`pull ${ref}`, this.o.pullTimeoutMs ?? 60_000, (signal) => this.o.engine.images.pull({ ref, signal }), this.ctl.signal);
    } catch (e) {
      const err = toBosunError(e, 'pull_failed');
      throw new BosunError(err.code === 'timeout' ? 'pull_failed' : err.code, `image ${ref} is not on the node and could not be pulled: ${err.message}`, { cause: e });
    }
  }

  private async stopSlot(m: StopMessage): Promise<void> {
    const existing = await this.slotContainers(m.service, m.slot);
    for (const c of existing) {
      const g = identityOf(c.labels)?.generation ?? 0;
      if (g > m.generation) continue;
      await this.remove(c.id);
      await this.report({ service: m.service, slot: m.slot, generation: g, status: 'missing' });
    }
  }

  private async remove(id: string): Promise<void> {
    await this.o.engine.containers.stop(id, { timeoutSec: this.o.stopTimeoutSec ?? 2 }).catch(() => undefined);
    await this.o.engine.containers.remove(id, { force: true });
  }

  private async report(c: ReportedContainer): Promise<void> {
    const msg: ReplicaMessage = { type: 'replica', node: this.o.name, sentAt: Date.now(), container: c };
    await this.o.transport.publish(REPORTS_CHANNEL, this.o.sealer.seal(SERVERS, msg));
  }

  private async heartbeat(): Promise<void> {
    const list = await this.o.engine.containers.list({ all: true, labels: { [LABEL.node]: this.o.name, [LABEL.managed]: 'true' } });
    const containers = list.map(reportOf).filter((c): c is ReportedContainer => c !== undefined);
    const msg: HeartbeatMessage = {
      type: 'heartbeat', node: this.o.name, sentAt: Date.now(), intervalMs: this.heartbeatMs,
      labels: this.o.labels ?? {}, free: await this.freeResources(list), containers,
    };
    await this.o.transport.publish(REPORTS_CHANNEL, this.o.sealer.seal(SERVERS, msg));
  }

  private async freeResources(list: ContainerSummary[]): Promise<Resources> {
    const used: Resources = { cpu: 0, memMb: 0, diskMb: 0 };
    for (const c of list) {
      if (c.status !== 'running') continue;
      const r = requestedOf(c.labels);
      used.cpu += r.cpu;
      used.memMb += r.memMb;
      used.diskMb += r.diskMb;
    }
    let diskMb = 0;
    try {
      const s = await statfs('/');
      diskMb = (s.bavail * s.bsize) / 1024 / 1024;
    } catch {
      diskMb = 0;
    }
    const info = this.info;
    return {
      cpu: Math.max(0, (info?.cpus ?? 0) * 1000 - used.cpu),
      memMb: Math.max(0, Math.floor((info?.memoryBytes ?? 0) / 1024 / 1024) - used.memMb),
      diskMb: Math.max(0, Math.floor(diskMb - used.diskMb)),
    };
  }

  private async heartbeatLoop(): Promise<void> {
    const signal = this.ctl.signal;
    while (!signal.aborted) {
      await sleep(this.heartbeatMs, signal);
      if (signal.aborted) break;
      try {
        await withTimeout('heartbeat', Math.max(2_000, this.heartbeatMs * 4), () => this.heartbeat(), signal);
      } catch (e) {
        this.o.log.warn({ err: toBosunError(e).message }, 'heartbeat failed');
      }
    }
  }

  /** Docker events → replica reports; the stream is resumed from the last event after a break. */
  private async eventsLoop(): Promise<void> {
    const signal = this.ctl.signal;
    let since: bigint | undefined;
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        for await (const ev of this.o.engine.events.stream({ resources: ['container'], labels: { [LABEL.node]: this.o.name }, signal, ...(since ? { sinceNano: since } : {}) })) {
          since = ev.timeNano + 1n;
          attempt = 0;
          const id = identityOf(ev.attributes);
          if (!id) continue;
          if (ev.kind === 'started') await this.report({ ...id, status: 'running' });
          else if (ev.kind === 'died') await this.report({ ...id, status: 'exited', ...(ev.exitCode !== undefined ? { exitCode: ev.exitCode } : {}) });
          else if (ev.kind === 'oom') await this.report({ ...id, status: 'exited', error: 'out of memory' });
        }
      } catch (e) {
        if (signal.aborted) break;
        this.o.log.warn({ err: toBosunError(e).message }, 'docker events stream broke; resuming');
      }
      await sleep(backoffMs(attempt, 200, 5_000), signal);
    }
  }
}
