/**
 * The warm pools of one agent (side effects; the decisions are in plan.ts): keeps each pool's
 * idle members created and started, hands one to a matching run (renamed for its request),
 * removes it after the run and refills in the background.
 */
import { systemClock, type Clock } from '../ports/clock.js';
import { randomBytes } from 'node:crypto';
import { isBosunError } from '../domain/errors.js';
import { sleep } from '../util/abort.js';
import { LABEL } from '../domain/labels.js';
import type { Policy } from '../domain/policy.js';
import type { PreparedExec } from '../domain/engine/index.js';
import type { ContainerEngine } from '../ports/engine.js';
import type { Logger } from '../util/log.js';
import type { PoolMetrics } from './metrics.js';
import type { PoolFile } from './pool-file.js';
import { poolTemplate, type PoolTemplate } from './pool-spec.js';
import { IDLE_NAME_PREFIX, planAdoption, planRefill, selectOwn, type IdleContainer } from './plan.js';

/** A container handed to one run. */
export interface Claimed {
  id: string;
  name: string;
  pool: string;
  image: { entrypoint?: string[]; cmd?: string[] };
  /** The run's exec, made beside the rename (not started); it rejects as the exec would. */
  prepared?: Promise<PreparedExec>;
}

/** Made for a member beside its rename; dropped with the member should the rename fail. */
export type PrepareExec = (member: { id: string; image: Claimed['image'] }) => Promise<PreparedExec> | undefined;

interface Pool {
  t: PoolTemplate;
  size: number;
  refillConcurrency: number;
  maxIdleMs: number;
  idle: IdleContainer[];
  filling: number;
  image: { entrypoint?: string[]; cmd?: string[] };
}

export interface PoolStatus {
  name: string;
  size: number;
  idle: number;
  filling: number;
}

const SWEEP_MS = 5_000;
/** How long a container claimed by a run of an earlier agent is kept for that run's redelivery. */
const TOMBSTONE_MS = 10 * 60_000;
/** How long a finished run's container may wait for release() before it is killed (release normally comes within milliseconds, once the reply is out). */
const KILL_GRACE_MS = 1_000;

export class WarmPools {
  private readonly pools: Pool[];
  private readonly tombstones = new Map<string, number>();
  private sweep: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly pending = new Set<Promise<unknown>>();
  /** Containers claimed by this agent's runs (by id) and their claim names, until released. */
  private readonly held = new Map<string, string>();
  /** Containers whose run ended and that release() has not removed yet: their kill timers. */
  private readonly finishing = new Map<string, NodeJS.Timeout>();

  /** owner: this agent's stable name (stableAgentName in src/app/agent-name.ts); its pool containers carry it, and only those are adopted or removed. */
  /** sweepMs: how often dead idle members are dropped and pools refilled (default 5 s; tests set it to hold a dead member in the pool). */
  constructor(private readonly o: { engine: ContainerEngine; policy: Policy; log: Logger; file: PoolFile; owner: string; metrics?: PoolMetrics; clock?: Clock; sweepMs?: number }) {
    // Built (and so policy-checked) before anything is created: a refused pool stops the agent's start.
    this.pools = o.file.pools.map((def) => ({ t: ownedTemplate(poolTemplate(def, o.policy), o.owner), size: def.size, refillConcurrency: def.refill_concurrency ?? def.size, maxIdleMs: def.max_idle_s * 1000, idle: [], filling: 0, image: {} }));
  }

  get metrics(): PoolMetrics | undefined {
    return this.o.metrics;
  }

  private now(): number {
    return (this.o.clock ?? systemClock).now();
  }

  async start(): Promise<void> {
    for (const p of this.pools) {
      const img = await this.o.engine.images.inspect(p.t.spec.image);
      if (!img) this.o.log.warn({ pool: p.t.name, image: p.t.spec.image }, 'pool image not present; the pool fills once it is pulled by a run');
      p.image = { ...(img?.entrypoint ? { entrypoint: img.entrypoint } : {}), ...(img?.cmd ? { cmd: img.cmd } : {}) };
    }
    await this.adopt();
    this.refillAll();
    this.sweep = setInterval(() => this.refillAll(), this.o.sweepMs ?? SWEEP_MS);
    this.sweep.unref();
    this.o.log.info({ pools: this.status() }, 'warm pools started');
  }

  /**
   * Pool containers this agent left before a restart: adopted when they still fit, removed
   * otherwise. Those of another agent on the same engine are left alone.
   */
  private async adopt(): Promise<void> {
    const list = await this.o.engine.containers.list({ all: true, labels: { [LABEL.pool]: true, [LABEL.managed]: 'true' } });
    const all = list.map((c) => ({ id: c.id, owner: c.labels[LABEL.poolOwner], pool: c.labels[LABEL.pool] ?? '', key: c.labels[LABEL.poolKey] ?? '', running: c.status === 'running', unclaimed: c.name.startsWith(IDLE_NAME_PREFIX) }));
    const { own: found, others, unowned } = selectOwn(all, this.o.owner);
    if (unowned) this.o.log.warn({ containers: unowned }, `pool containers without a ${LABEL.poolOwner} label (made by an older bosun) are left alone; remove them by hand once no older agent uses them`);
    const plan = planAdoption(found, this.pools.map((p) => ({ name: p.t.name, key: p.t.key, size: p.size })));
    const now = this.now();
    for (const p of this.pools) p.idle.push(...(plan.adopt[p.t.name] ?? []).map((id) => ({ id, since: now })));
    for (const id of plan.remove) this.track(this.removeMember(id));
    for (const id of plan.tombstone) {
      await this.o.engine.containers.kill(id).catch(() => undefined);
      this.tombstones.set(id, now);
    }
    if (found.length || others) this.o.log.info({ owner: this.o.owner, adopted: Object.values(plan.adopt).flat().length, removed: plan.remove.length, interrupted: plan.tombstone.length, others_left_alone: others }, 'pool containers found at start');
  }

  /** The pool whose settings are exactly these (by key), if any. */
  find(key: string): string | undefined {
    return this.pools.find((p) => p.t.key === key)?.t.name;
  }

  /**
   * Takes an idle member of the pool with this key for one request: renamed to the request's
   * claim name (claimNameFor) before it is handed out, so a redelivery finds it, a second claim
   * of the same request cannot take another, and a crash during the run cannot leave a used
   * container looking idle. `prepare` makes the run's exec beside the rename: Docker makes it
   * while the rename writes the container's config to disk, and nothing of it runs until it is
   * started, after the rename.
   */
  async claim(key: string, name: string, prepare?: PrepareExec): Promise<Claimed | 'taken' | undefined> {
    const p = this.pools.find((x) => x.t.key === key);
    if (!p || this.stopped) return undefined;
    // A run of this agent holds the name (its rename may not have landed yet).
    if (this.heldHere(name)) return 'taken';
    for (let c = p.idle.shift(); c; c = p.idle.shift()) {
      this.o.metrics?.idle(p.t.name, p.idle.length);
      this.held.set(c.id, name);
      const prepared = prepare?.({ id: c.id, image: p.image });
      // Handled here so that a refusal before anyone awaits it is not an unhandled rejection.
      prepared?.catch(() => undefined);
      try {
        await this.o.engine.containers.rename(c.id, name);
        return { id: c.id, name, pool: p.t.name, image: p.image, ...(prepared ? { prepared } : {}) };
      } catch (e) {
        this.held.delete(c.id);
        if (isBosunError(e) && e.code === 'conflict') {
          // The name is taken: another delivery of this request holds a container already.
          p.idle.unshift(c);
          return 'taken';
        }
        // Gone (removed by hand, died): try the next one.
        this.o.log.warn({ pool: p.t.name, id: c.id, err: (e as Error).message }, 'pool container could not be claimed');
        this.track(this.removeMember(c.id));
      }
    }
    return this.empty(p);
  }

  /** Whether a run of this agent holds the container of this claim name (so it is not removed under it). */
  heldHere(name: string): boolean {
    for (const held of this.held.values()) if (held === name) return true;
    return false;
  }

  private empty(p: Pool): undefined {
    // Not refilled at each claim: a create+start beside the run's exec slows the run; release() and this refill.
    this.refill(p);
    return undefined;
  }

  /**
   * The run in this claimed container ended. It is removed by release() once the reply is out;
   * failing that, killed after a grace (what the command left in the background dies with it,
   * even should the reply never settle) and removed by the sweep after the tombstone time.
   */
  finished(id: string): void {
    this.tombstones.set(id, this.now());
    const timer = setTimeout(() => this.killFinished(id), KILL_GRACE_MS);
    timer.unref();
    this.finishing.set(id, timer);
  }

  private killFinished(id: string): void {
    clearTimeout(this.finishing.get(id));
    if (this.finishing.delete(id)) this.track(this.o.engine.containers.kill(id).catch(() => undefined));
  }

  /** A claimed container is never reused: removed, off the reply's path. */
  release(id: string): Promise<void> {
    const work = this.releaseNow(id);
    this.track(work);
    return work;
  }

  private async releaseNow(id: string): Promise<void> {
    clearTimeout(this.finishing.get(id));
    this.finishing.delete(id);
    this.held.delete(id);
    this.tombstones.delete(id);
    try {
      await this.removeMember(id);
    } finally {
      for (const p of this.pools) this.refill(p);
    }
  }

  /** The id of this agent's pool container of that name, if it is one (another agent's is left to it). */
  async ownIdOf(name: string): Promise<string | undefined> {
    const c = await this.o.engine.containers.inspect(name).catch(() => undefined);
    return c?.labels[LABEL.poolOwner] === this.o.owner ? c.id : undefined;
  }

  status(): PoolStatus[] {
    return this.pools.map((p) => ({ name: p.t.name, size: p.size, idle: p.idle.length, filling: p.filling }));
  }

  private refillAll(): void {
    this.track(this.dropDead().then(() => this.sweepAndRefill()));
  }

  /** Idle members that stopped (killed by hand, OOM, daemon restart) or vanished (removed by hand) leave the pool. */
  private async dropDead(): Promise<void> {
    const listed = this.now();
    const running = await this.o.engine.containers.list({ all: false, labels: { [LABEL.pool]: true, [LABEL.managed]: 'true', [LABEL.poolOwner]: this.o.owner }, status: ['running'] });
    const live = new Set(running.map((c) => c.id));
    for (const p of this.pools) {
      // A member that became idle after the list was asked for is not judged by it.
      const gone = p.idle.filter((c) => !live.has(c.id) && c.since < listed);
      if (!gone.length) continue;
      p.idle = p.idle.filter((c) => !gone.includes(c));
      this.o.log.warn({ pool: p.t.name, containers: gone.length }, 'idle pool containers had stopped; replaced');
      for (const c of gone) this.track(this.removeMember(c.id));
    }
  }

  private sweepAndRefill(): void {
    const now = this.now();
    for (const [id, at] of this.tombstones) {
      if (now - at < TOMBSTONE_MS) continue;
      this.tombstones.delete(id);
      this.held.delete(id);
      this.track(this.removeMember(id));
    }
    for (const p of this.pools) this.refill(p);
  }

  private refill(p: Pool): void {
    if (this.stopped) return;
    const plan = planRefill(p, this.now());
    if (plan.expire.length) {
      p.idle = p.idle.filter((c) => !plan.expire.includes(c.id));
      for (const id of plan.expire) this.track(this.removeMember(id));
    }
    for (let i = 0; i < plan.create; i++) this.track(this.fillOne(p));
  }

  private async fillOne(p: Pool): Promise<void> {
    p.filling++;
    const t0 = performance.now();
    let id: string | undefined;
    let made = false;
    try {
      ({ id } = await this.o.engine.containers.create({ ...p.t.spec, name: `${IDLE_NAME_PREFIX}${p.t.name}-${randomBytes(5).toString('hex')}` }));
      await this.o.engine.containers.start(id);
      if (this.stopped) throw new Error('agent stopping');
      p.idle.push({ id, since: this.now() });
      this.o.metrics?.refilled(p.t.name, (performance.now() - t0) / 1000);
      this.o.metrics?.idle(p.t.name, p.idle.length);
      made = true;
    } catch (e) {
      if (id) await this.o.engine.containers.remove(id, { force: true }).catch(() => undefined);
      if (!this.stopped) this.o.log.warn({ pool: p.t.name, err: (e as Error).message }, 'pool refill failed; retried at the next sweep');
    } finally {
      p.filling--;
    }
    // The next member, when refill_concurrency held it back (after a failure, the sweep retries).
    if (made) this.refill(p);
  }

  /**
   * Removes a pool container. Docker can refuse the remove of a container killed a moment before
   * ("unable to remove filesystem … directory not empty": its exit is being recorded in that
   * directory) and leave it dead; it is removed again in the background (0.1, 0.4, 1.3, 4 s after
   * the first try), and once more by the sweep 10 minutes later (tombstoned) if that fails too.
   */
  private async removeMember(id: string): Promise<void> {
    const remove = () => this.o.engine.containers.remove(id, { force: true }).then(() => true, (e: unknown) => (isBosunError(e) && e.code === 'not_found') || e);
    const first = await remove();
    if (first === true) return;
    this.track((async () => {
      let last: unknown = first;
      for (const ms of [100, 300, 900, 2_700]) {
        await sleep(ms);
        if ((last = await remove()) === true) return;
      }
      this.tombstones.set(id, this.now());
      throw last;
    })());
  }

  private track(work: Promise<unknown>): void {
    const w = work.catch((e: unknown) => this.o.log.warn({ err: (e as Error).message }, 'pool cleanup failed')).finally(() => this.pending.delete(w));
    this.pending.add(w);
  }

  /** Shutdown: no more claims or refills; idle members removed (claimed ones go with their runs). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweep);
    for (const id of [...this.finishing.keys()]) this.killFinished(id);
    // Removals (and their retries) may still join while earlier ones settle.
    while (this.pending.size) await Promise.allSettled([...this.pending]);
    const idle = this.pools.flatMap((p) => p.idle.splice(0).map((c) => c.id));
    for (const id of idle) this.track(this.removeMember(id));
    while (this.pending.size) await Promise.allSettled([...this.pending]);
    for (const p of this.pools) this.o.metrics?.idle(p.t.name, 0);
  }
}

/** Members carry their owner's name; the pool key stays the settings' hash (the owner is not a setting). */
function ownedTemplate(t: PoolTemplate, owner: string): PoolTemplate {
  return { ...t, spec: { ...t.spec, labels: { ...t.spec.labels, [LABEL.poolOwner]: owner } } };
}
