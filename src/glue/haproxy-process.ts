/**
 * The I/O half of the HAProxy handler: validate (`haproxy -c`), swap atomically, reload.
 * A config that fails validation is never renamed over the live one.
 *
 * Reload modes:
 * - `master` (default): glue runs `haproxy -W -db` (master-worker) and reloads it with
 *   SIGUSR2; the master re-reads the config, starts a new worker and lets the old one
 *   finish its connections (no connection dropped). Completion is seen as the master's
 *   "Loading success." line. An existing master from the pid file is adopted.
 * - `sf`: `haproxy -D -p PIDFILE -sf <old pids>` (the classic soft-finish reload).
 * - `command`: a configured shell command (e.g. `systemctl reload haproxy`).
 * - `none`: only write the file.
 *
 * With `runtime` set, a change confined to the servers of unchanged backends is applied
 * through HAProxy's runtime API instead (haproxy-runtime.ts) and the file is written without
 * a reload; anything else, or a refused runtime command, takes the reload path above.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { BosunError } from '../domain/errors.js';
import type { Logger } from '../util/log.js';
import { runCommand } from './run-command.js';
import type { RuntimeServers } from './haproxy-runtime.js';
import { planServerUpdate } from './haproxy-servers.js';

export type ReloadMode = 'master' | 'sf' | 'command' | 'none';

export interface HaproxyProcessOptions {
  configFile: string;
  pidFile: string;
  haproxyBin: string;
  reload: ReloadMode;
  reloadCommand?: string;
  /** Stop the haproxy this glue started when glue closes (master mode). */
  stopOnClose: boolean;
  /**
   * Start the master as a daemon (`-W -D`) instead of a child: for `glue -1`, whose haproxy
   * must outlive it (a later `glue -w` adopts it from the pid file).
   */
  daemonize?: boolean;
  /** Server-only changes go through this runtime API client instead of a reload. */
  runtime?: RuntimeServers;
  log: Logger;
}

export interface ApplyResult {
  changed: boolean;
  reloaded: boolean;
  /** Applied through the runtime API (no reload). */
  runtime?: boolean;
}

export class HaproxyProcess {
  /** The config text haproxy is known to run (set only after a reload succeeded). */
  private loaded: string | undefined;
  private master: ChildProcess | undefined;
  private masterPid: number | undefined;
  private waiters: Array<(ok: boolean) => void> = [];
  reloads = 0;
  /** Changes applied through the runtime API without a reload. */
  runtimeUpdates = 0;
  /** Runtime API updates that failed and were replaced by a reload. */
  runtimeFallbacks = 0;

  constructor(private readonly opts: HaproxyProcessOptions) {}

  /** Validates `text`, swaps it in atomically and reloads; unchanged text is skipped. */
  async apply(text: string, signal?: AbortSignal): Promise<ApplyResult> {
    // Only what a successful reload put live counts as live: after a failed reload (or at
    // start, whatever the file on disk says) the same text is validated and reloaded again.
    if (text === this.loaded && this.isRunning()) return { changed: false, reloaded: false };
    const changed = text !== this.loaded;
    if (this.opts.runtime && this.loaded !== undefined && changed && this.isRunning()) {
      if (await this.applyAtRuntime(this.opts.runtime, this.loaded, text)) return { changed, reloaded: false, runtime: true };
    }
    const tmp = `${this.opts.configFile}.glue-${process.pid}.tmp`;
    await writeFile(tmp, text, 'utf8');
    const check = await runCommand(this.opts.haproxyBin, ['-c', '-q', '-f', tmp], { timeoutMs: 15_000, signal });
    if (check.code !== 0) {
      await unlink(tmp).catch(() => undefined);
      throw new BosunError('invalid_message', `haproxy -c refused the new config; the live config is kept: ${(check.stderr || check.stdout).trim()}`, {
        field: 'template',
        details: { stdout: check.stdout, stderr: check.stderr },
        retryable: false,
      });
    }
    await rename(tmp, this.opts.configFile);
    // the new worker has the file's servers only; the old one drains what it had by itself
    await this.opts.runtime?.reset();
    await this.reload(signal);
    this.loaded = text;
    return { changed, reloaded: this.opts.reload !== 'none' };
  }

  /**
   * Applies a server-only change through the runtime API, then writes the file (no `haproxy -c`:
   * its skeleton is the validated live one and each new `server` line was just accepted by
   * HAProxy's own server parser). False when a reload is needed or a command was refused.
   */
  private async applyAtRuntime(runtime: RuntimeServers, live: string, text: string): Promise<boolean> {
    const plan = planServerUpdate(live, text);
    if (plan.kind === 'reload') {
      this.opts.log.debug({ reason: plan.reason }, 'haproxy change needs a reload');
      return false;
    }
    try {
      await runtime.apply(plan.ops);
    } catch (e) {
      this.runtimeFallbacks++;
      this.opts.log.warn({ err: e, ops: plan.ops.length }, 'haproxy runtime API update failed; reloading instead');
      return false;
    }
    const tmp = `${this.opts.configFile}.glue-${process.pid}.tmp`;
    await writeFile(tmp, text, 'utf8');
    await rename(tmp, this.opts.configFile);
    this.loaded = text;
    this.runtimeUpdates++;
    return true;
  }

  private isRunning(): boolean {
    if (this.opts.reload !== 'master') return true;
    return this.masterPid !== undefined && alive(this.masterPid);
  }

  private async reload(signal?: AbortSignal): Promise<void> {
    const o = this.opts;
    if (o.reload === 'none') return;
    this.reloads++;
    if (o.reload === 'command') {
      const r = await runCommand('/bin/sh', ['-c', o.reloadCommand ?? ''], { timeoutMs: 30_000, signal });
      if (r.code !== 0) throw new BosunError('nonzero_exit', `reload command exited ${r.code}: ${r.stderr.trim()}`, { retryable: true });
      return;
    }
    if (o.reload === 'sf') {
      const old = await readPids(o.pidFile);
      const r = await runCommand(o.haproxyBin, ['-D', '-f', o.configFile, '-p', o.pidFile, ...(old.length ? ['-sf', ...old.map(String)] : [])], { timeoutMs: 30_000, signal });
      if (r.code !== 0) throw new BosunError('nonzero_exit', `haproxy -sf exited ${r.code}: ${r.stderr.trim()}`, { retryable: true });
      return;
    }
    if (this.masterPid === undefined) {
      const [pid] = await readPids(o.pidFile);
      if (pid !== undefined && alive(pid) && (await isHaproxy(pid))) {
        this.masterPid = pid;
        o.log.info({ pid }, 'adopted running haproxy master');
      }
    }
    if (this.masterPid !== undefined && alive(this.masterPid)) {
      const done = this.nextLoad(10_000);
      process.kill(this.masterPid, 'SIGUSR2');
      // An adopted master's output is not ours to read: then the signal is all we can do.
      if (this.master && !(await done)) {
        throw new BosunError('nonzero_exit', 'haproxy master could not load the new config (e.g. a port in use); see its log', { retryable: true });
      }
      return;
    }
    await this.startMaster();
  }

  private async startMaster(): Promise<void> {
    const o = this.opts;
    if (o.daemonize) {
      const r = await runCommand(o.haproxyBin, ['-W', '-D', '-f', o.configFile, '-p', o.pidFile], { timeoutMs: 30_000 });
      if (r.code !== 0) throw new BosunError('nonzero_exit', `haproxy -W -D exited ${r.code}: ${(r.stderr || r.stdout).trim()}`, { retryable: true });
      this.masterPid = (await readPids(o.pidFile))[0];
      o.log.info({ pid: this.masterPid }, 'haproxy master started as a daemon');
      return;
    }
    const child = spawn(o.haproxyBin, ['-W', '-db', '-f', o.configFile, '-p', o.pidFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.master = child;
    this.masterPid = child.pid;
    const done = this.nextLoad(10_000);
    const onOutput = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        if (line.includes('Loading success')) this.waiters.splice(0).forEach((w) => w(true));
        if (line.includes('Loading failure')) this.waiters.splice(0).forEach((w) => w(false));
        if (line.includes('[ALERT]')) o.log.warn({ haproxy: line.trim() }, 'haproxy');
        else o.log.debug({ haproxy: line.trim() }, 'haproxy');
      }
    };
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
    child.on('exit', (code, sig) => {
      o.log.warn({ code, signal: sig }, 'haproxy master exited');
      if (this.master === child) {
        this.master = undefined;
        this.masterPid = undefined;
      }
      this.waiters.splice(0).forEach((w) => w(false));
    });
    await done;
    if (this.master !== child) throw new BosunError('nonzero_exit', 'haproxy master exited at start-up');
    o.log.info({ pid: child.pid }, 'haproxy master started');
  }

  /**
   * Resolves true at the next "Loading success.", false at "Loading failure" or the master's
   * exit; true after `ms` without either (an haproxy that does not print them).
   */
  private nextLoad(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(true), ms);
      this.waiters.push((ok) => {
        clearTimeout(t);
        resolve(ok);
      });
    });
  }

  get runtime(): RuntimeServers | undefined {
    return this.opts.runtime;
  }

  get pid(): number | undefined {
    return this.masterPid;
  }

  async close(): Promise<void> {
    this.opts.runtime?.close();
    const child = this.master;
    if (!child || !this.opts.stopOnClose || child.exitCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    // the timer is cleared on exit: a pending one would keep glue's process alive for its length
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function isHaproxy(pid: number): Promise<boolean> {
  const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
  return comm.trim().startsWith('haproxy');
}

async function readPids(file: string): Promise<number[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split(/\s+/).filter(Boolean).map(Number).filter((n) => Number.isInteger(n) && n > 0);
}
