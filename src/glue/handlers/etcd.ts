/**
 * etcd v3 publisher (seed 004's DockerGlue.handlers.publishers.distconfig.Publisher, whose
 * original wrote nothing). Every key is attached to one lease kept alive by this process:
 * if glue dies, its keys expire after `ttl` seconds; on a clean exit the lease is revoked.
 * Params: endpoints (comma list, default http://127.0.0.1:2379), prefix (default
 * /bosun/glue), ttl (seconds, default 10), node (default hostname), network.
 */
import { hostname } from 'node:os';
import { Etcd3, type Lease } from 'etcd3';
import { BosunError } from '../../domain/errors.js';
import type { GlueHandler, HandlerConfig, HandlerContext } from '../types.js';
import { instanceRecords } from '../discovery.js';
import { backoffMs, sleep } from '../../util/abort.js';

export class EtcdPublisher implements GlueHandler {
  readonly kind = 'state' as const;
  private readonly client: Etcd3;
  private lease: Lease | undefined;
  private readonly published = new Map<string, string>();
  private readonly ttl: number;
  private readonly prefix: string;
  private readonly node: string;
  private readonly network: string | undefined;
  private desired = new Map<string, string>();
  /** Runs of sync() one at a time (events and lease-loss re-publishing share `published`). */
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private republishing = false;
  private readonly stop = new AbortController();
  private log: HandlerContext['log'] | undefined;

  constructor(cfg: HandlerConfig) {
    const p = cfg.params;
    const hosts = (p.endpoints ?? p.hosts ?? 'http://127.0.0.1:2379').split(',').map((h) => h.trim()).filter(Boolean);
    this.client = new Etcd3({ hosts, dialTimeout: 3000 });
    this.ttl = Number(p.ttl ?? '10');
    if (!Number.isInteger(this.ttl) || this.ttl < 2) throw new BosunError('invalid_message', `${cfg.file}: ttl must be an integer ≥ 2`, { field: 'ttl' });
    this.prefix = p.prefix ?? '/bosun/glue';
    this.node = p.node ?? hostname();
    this.network = p.network || undefined;
  }

  private async currentLease(): Promise<Lease> {
    if (this.lease) return this.lease;
    const lease = this.client.lease(this.ttl);
    lease.on('lost', (err: Error) => {
      this.log?.warn({ err }, 'etcd lease lost; re-publishing on a new lease');
      if (this.lease !== lease || this.closed) return;
      this.lease = undefined;
      this.published.clear();
      void this.republish();
    });
    try {
      await lease.grant();
    } catch (e) {
      throw new BosunError('store_error', `etcd lease grant failed: ${(e as Error).message}`, { cause: e });
    }
    this.lease = lease;
    this.published.clear();
    return lease;
  }

  /** After a lost lease (etcd down, partition), keeps trying until the entries are back. */
  private async republish(): Promise<void> {
    if (this.republishing) return;
    this.republishing = true;
    try {
      for (let attempt = 0; !this.closed; attempt++) {
        try {
          await this.serial(() => this.sync());
          return;
        } catch (e) {
          this.log?.warn({ err: e, attempt }, 'etcd re-publish failed, retrying');
          await sleep(backoffMs(attempt, 500, 10_000), this.stop.signal);
        }
      }
    } finally {
      this.republishing = false;
    }
  }

  private serial(work: () => Promise<void>): Promise<void> {
    const run = this.chain.then(work, work);
    this.chain = run.catch(() => undefined);
    return run;
  }

  async handle(ctx: HandlerContext): Promise<void> {
    this.log = ctx.log;
    this.desired = instanceRecords(await ctx.snapshot(), { prefix: this.prefix, node: this.node, ...(this.network ? { network: this.network } : {}) });
    await this.serial(() => this.sync());
  }

  private async sync(): Promise<void> {
    const desired = this.desired;
    try {
      const lease = await this.currentLease();
      let puts = 0;
      let deletes = 0;
      for (const [key, value] of desired) {
        if (this.published.get(key) === value) continue;
        await lease.put(key).value(value);
        this.published.set(key, value);
        puts++;
      }
      for (const key of [...this.published.keys()]) {
        if (desired.has(key)) continue;
        await this.client.delete().key(key);
        this.published.delete(key);
        deletes++;
      }
      if (puts || deletes) this.log?.info({ puts, deletes, instances: desired.size }, 'etcd entries updated');
    } catch (e) {
      if (e instanceof BosunError) throw e;
      throw new BosunError('store_error', `etcd: ${(e as Error).message}`, { cause: e });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stop.abort();
    try {
      await this.lease?.revoke();
    } catch {
      // the lease expires on its own
    }
    this.client.close();
  }
}
