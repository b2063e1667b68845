/**
 * Applies server changes to a running HAProxy through its runtime API (HAProxy ≥ 2.6 dynamic
 * servers), so adding, removing or re-weighting a server costs no reload.
 *
 * - add: `add server b/s <args>` (a new dynamic server starts in maintenance), `enable health`
 *   when the line has `check`, then `enable server`.
 * - remove: `set server b/s state maint` — no new requests, the ones in flight go on — then
 *   `del server b/s` is retried until HAProxy accepts it (it refuses while the server still has
 *   connections or a queue). Nothing is shut down: a slow response in flight completes.
 * - a server re-added while it drains is revived in place (address, weight, `state ready`).
 *
 * Every command runs under one lock, so the drain loop never interleaves with an update.
 * A failing command throws a BosunError('engine_error'); the caller falls back to a reload.
 */
import { BosunError } from '../domain/errors.js';
import type { Logger } from '../util/log.js';
import { parseServerArgs, type RuntimeOp } from './haproxy-servers.js';
import { runtimeCommand } from './haproxy-socket.js';

export type RuntimeCommand = (command: string) => Promise<string>;

export interface RuntimeServersOptions {
  socketPath: string;
  log: Logger;
  /** How often removed servers are tried for deletion (ms). */
  drainPollMs?: number;
  /** Replaces the socket client (tests make it fail). */
  command?: RuntimeCommand;
}

const key = (backend: string, server: string) => `${backend}/${server}`;

export class RuntimeServers {
  /** Servers in maintenance waiting for their connections to end, with their old `server` args. */
  private readonly draining = new Map<string, { backend: string; server: string; args: string }>();
  private lock: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  readonly command: RuntimeCommand;
  /** Servers deleted after draining (for tests and logs). */
  deleted = 0;

  constructor(private readonly opts: RuntimeServersOptions) {
    this.command = opts.command ?? ((c) => runtimeCommand(opts.socketPath, c));
  }

  get drainingServers(): string[] {
    return [...this.draining.keys()];
  }

  /** Applies `ops` in order; throws at the first refused command. */
  apply(ops: readonly RuntimeOp[]): Promise<void> {
    return this.locked(async () => {
      for (const op of ops) await this.one(op);
    }).finally(() => this.schedule());
  }

  /** After a reload the new worker has only the servers of the file: nothing left to drain. */
  reset(): Promise<void> {
    return this.locked(async () => this.draining.clear());
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private async one(op: RuntimeOp): Promise<void> {
    const name = key(op.backend, op.server);
    switch (op.kind) {
      case 'add': {
        const old = this.draining.get(name);
        if (old) return this.revive(old.args, op.args, name);
        await this.expect(`add server ${name} ${op.args}`, /^New server registered/);
        const tokens = op.args.split(/\s+/);
        if (tokens.includes('check')) await this.expect(`enable health ${name}`, /^$/);
        if (tokens.includes('agent-check')) await this.expect(`enable agent ${name}`, /^$/);
        if (!tokens.includes('disabled')) await this.expect(`enable server ${name}`, /^$/);
        return;
      }
      case 'remove':
        await this.expect(`set server ${name} state maint`, /^$/);
        this.draining.set(name, { backend: op.backend, server: op.server, args: op.args });
        return;
      case 'set-addr':
        return this.setAddr(name, op.addr, op.port);
      case 'set-weight':
        await this.expect(`set server ${name} weight ${op.weight}`, /^$/);
        return;
    }
  }

  private async revive(oldArgs: string, newArgs: string, name: string): Promise<void> {
    const o = parseServerArgs(oldArgs);
    const n = parseServerArgs(newArgs);
    if (o.rest !== n.rest || n.port === undefined) {
      throw new BosunError('engine_error', `server ${name} is still draining and comes back with other settings`, { retryable: true });
    }
    await this.setAddr(name, n.addr, n.port);
    await this.expect(`set server ${name} weight ${n.weight}`, /^$/);
    await this.expect(`set server ${name} state ready`, /^$/);
    this.draining.delete(name);
  }

  private async setAddr(name: string, addr: string, port: number): Promise<void> {
    await this.expect(`set server ${name} addr ${addr} port ${port}`, /^(IP changed|no need to change the addr|Port changed|no need to change)/i);
  }

  private async expect(command: string, ok: RegExp): Promise<string> {
    const out = await this.command(command);
    if (!ok.test(out)) {
      throw new BosunError('engine_error', `haproxy runtime API refused "${command}": ${out || '(no answer)'}`, { details: { command, answer: out }, retryable: true });
    }
    return out;
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private schedule(): void {
    if (this.closed || this.timer || this.draining.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.locked(() => this.deleteDrained()).finally(() => this.schedule());
    }, this.opts.drainPollMs ?? 100);
    // draining must not keep a glue that is done alive
    this.timer.unref();
  }

  /** One pass: `del server` for each draining server; HAProxy refuses while it has connections. */
  private async deleteDrained(): Promise<void> {
    for (const [name] of this.draining) {
      const out = await this.command(`del server ${name}`).catch((e: Error) => `error: ${e.message}`);
      if (/^Server deleted/.test(out) || /^No such (server|backend)/.test(out)) {
        this.draining.delete(name);
        this.deleted++;
        this.opts.log.debug({ server: name }, 'drained server deleted');
      } else if (!/still has connections|queue is not empty|has connections/i.test(out)) {
        this.opts.log.warn({ server: name, answer: out }, 'haproxy did not delete a drained server; retrying');
      }
    }
  }
}
