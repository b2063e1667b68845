/** A fake container's life: start runs its behaviour, exit ends it (and a restart policy may start it again). */
import { BosunError } from '../../domain/errors.js';
import type { FakeContainer, FakeState } from './state.js';

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGTERM: 15 };

export function signalNumber(sig: string | undefined): number {
  if (sig === undefined) return 9;
  if (/^\d+$/.test(sig)) return Number(sig);
  const name = sig.toUpperCase().startsWith('SIG') ? sig.toUpperCase() : `SIG${sig.toUpperCase()}`;
  const n = SIGNALS[name];
  if (n === undefined) throw new BosunError('engine_error', `invalid signal: ${sig}`, { retryable: false });
  return n;
}

export function startContainer(s: FakeState, c: FakeContainer): void {
  if (c.state.running) return;
  c.manuallyStopped = false;
  c.state = { ...c.state, status: 'running', running: true, exitCode: 0, startedAt: s.iso(), oomKilled: false };
  delete c.state.finishedAt;
  s.containerEvent(c, 'started');
  if (c.spec.healthcheck) checkHealth(s, c);
  // Without openStdin the process's stdin is /dev/null; with it and nothing written, a read blocks.
  const stdin = c.spec.openStdin ? c.stdin : '';
  if (c.spec.stdinOnce) delete c.stdin;
  const o = s.behaviour(c.spec, s.filesOf(c), stdin);
  const now = s.clock.now();
  if (o.stdout) c.chunks.push({ stream: 'stdout', data: o.stdout, timeMs: now });
  if (o.stderr) c.chunks.push({ stream: 'stderr', data: o.stderr, timeMs: now });
  if (o.stdout || o.stderr) notify(c, 'chunk');
  if (o.exitCode === undefined && o.runsForMs === undefined) return;
  const code = o.exitCode ?? 0;
  // Exits after the caller's start returns, as a real process does.
  c.timer = setTimeout(() => exitContainer(s, c, code), o.runsForMs ?? 0);
}

/**
 * A healthcheck's first probe, after its interval: its command goes through the behaviour
 * (exit 0, or running on: healthy). Docker's retries are not modelled: one probe decides.
 */
function checkHealth(s: FakeState, c: FakeContainer): void {
  const hc = c.spec.healthcheck!;
  const [kind, ...rest] = hc.test;
  if (kind === 'NONE') return;
  c.state.health = 'starting';
  const startedAt = c.state.startedAt;
  const t = setTimeout(() => {
    if (!c.state.running || c.state.startedAt !== startedAt || !s.containers.has(c.id)) return;
    const cmd = kind === 'CMD-SHELL' ? ['sh', '-c', rest.join(' ')] : kind === 'CMD' ? rest : hc.test;
    const code = s.behaviour({ ...c.spec, entrypoint: [], cmd }, s.filesOf(c), '').exitCode ?? 0;
    c.state.health = code === 0 ? 'healthy' : 'unhealthy';
    s.containerEvent(c, 'health', { health: c.state.health });
  }, hc.intervalMs ?? 0);
  c.healthTimer = t;
}

/** The process ended with `code`; `manual`: a caller stopped or killed it. */
export function exitContainer(s: FakeState, c: FakeContainer, code: number, manual = false): void {
  if (!c.state.running) return;
  clearTimeout(c.timer);
  clearTimeout(c.healthTimer);
  delete c.timer;
  if (manual) c.manuallyStopped = true;
  c.state = { ...c.state, status: 'exited', running: false, exitCode: code, finishedAt: s.iso() };
  if (c.spec.healthcheck) c.state.health = 'unhealthy';
  s.containerEvent(c, 'died', { exitCode: code });
  notify(c, 'exit');
  if (c.spec.autoRemove) {
    removeContainer(s, c);
    return;
  }
  if (restarts(c, code)) {
    const delay = Math.min(10_000, 100 * 2 ** Math.min(c.state.restartCount, 7));
    const t = setTimeout(() => {
      if (!s.containers.has(c.id) || c.state.running || (c.manuallyStopped && c.restartPolicy.name !== 'always')) return;
      c.state.restartCount += 1;
      startContainer(s, c);
    }, delay);
    t.unref?.();
  }
}

function restarts(c: FakeContainer, code: number): boolean {
  const p = c.restartPolicy;
  if (c.manuallyStopped) return false;
  if (p.name === 'always' || p.name === 'unless-stopped') return true;
  if (p.name === 'on-failure') return code !== 0 && (!p.maximumRetryCount || c.state.restartCount < p.maximumRetryCount);
  return false;
}

export function stopContainer(s: FakeState, c: FakeContainer, signal?: string): void {
  if (!c.state.running) return;
  s.containerEvent(c, 'killed');
  exitContainer(s, c, 128 + signalNumber(signal ?? c.spec.stopSignal ?? 'SIGTERM'), true);
  if (s.containers.has(c.id)) s.containerEvent(c, 'stopped');
}

export function killContainer(s: FakeState, c: FakeContainer, signal?: string): void {
  const n = signalNumber(signal);
  if (!c.state.running) return;
  s.containerEvent(c, 'killed');
  exitContainer(s, c, 128 + n, true);
}

export function removeContainer(s: FakeState, c: FakeContainer): void {
  clearTimeout(c.timer);
  clearTimeout(c.healthTimer);
  c.state = { ...c.state, status: 'removing', running: false };
  s.containers.delete(c.id);
  s.containerEvent(c, 'destroyed');
  notify(c, 'exit');
}

function notify(c: FakeContainer, why: 'exit' | 'chunk'): void {
  for (const l of [...c.listeners]) l(why);
}

/**
 * Resolves at the container's next exit, once `until` says so on a chunk, or at once when
 * `now` already holds; an abort rejects with `timeout`.
 */
export function nextExit(c: FakeContainer, o: { until?: () => boolean; now?: boolean; signal?: AbortSignal; timeoutMs?: number; what: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    if (o.now || o.until?.()) return resolve();
    let timer: NodeJS.Timeout | undefined;
    const done = (err?: BosunError) => {
      c.listeners.delete(listener);
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    const listener = (why: 'exit' | 'chunk') => {
      if (why === 'exit' || o.until?.()) done();
    };
    const onAbort = () => done(new BosunError('timeout', `${o.what}: aborted`, { retryable: true }));
    if (o.signal?.aborted) return onAbort();
    c.listeners.add(listener);
    o.signal?.addEventListener('abort', onAbort, { once: true });
    if (o.timeoutMs !== undefined) timer = setTimeout(() => done(new BosunError('timeout', `${o.what}: timed out after ${o.timeoutMs} ms`, { retryable: true })), o.timeoutMs);
  });
}
