/**
 * Host CPU (all processes, /proc/stat) per container for each step of a pool member's life and
 * for a whole cold run: what bounds a CPU-bound burst. A warm run pays its exec now and its
 * replacement's create and start plus its own kill and remove soon after; a cold run pays
 * create, start, its exit, wait, logs and remove.
 */
import { readFileSync } from 'node:fs';
import type { ContainerSpec } from '../src/domain/engine/index.js';
import type { ContainerEngine } from '../src/ports/engine.js';
import { burst } from './burst.js';

/** CPU time the whole host has spent busy so far, in seconds (/proc/stat: user, nice, system, irq, softirq, steal; USER_HZ 100). */
export function cpuBusySeconds(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return ((f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0)) / 100;
}

export interface LifecycleCpu {
  /** Milliseconds of host CPU per container. */
  create: number;
  start: number;
  exec: number;
  kill: number;
  remove: number;
  cold: number;
}

/** Each step for n containers, `width` at a time (spec: an idle PID 1, as a pool member's). */
export async function lifecycleCpu(engine: ContainerEngine, idle: ContainerSpec, cold: ContainerSpec, n: number, width: number): Promise<LifecycleCpu> {
  const ids: string[] = [];
  const step = async (f: (i: number) => Promise<unknown>): Promise<number> => {
    let i = 0;
    const c0 = cpuBusySeconds();
    const r = await burst(n, width, () => f(i++));
    if (r.failures) throw new Error(`lifecycle step: ${r.failures} failed`);
    return ((cpuBusySeconds() - c0) / n) * 1000;
  };
  const create = await step(async () => ids.push((await engine.containers.create(idle)).id));
  const start = await step((i) => engine.containers.start(ids[i]!));
  const exec = await step((i) => engine.exec.run(ids[i]!, { cmd: ['echo', 'hi'] }));
  const kill = await step((i) => engine.containers.kill(ids[i]!));
  const remove = await step((i) => engine.containers.remove(ids[i]!, { force: true }));
  const whole = await step(async () => {
    const { id } = await engine.containers.create(cold);
    await engine.containers.start(id);
    await engine.containers.wait(id);
    await engine.containers.logs(id, { tty: false });
    await engine.containers.remove(id, { force: true });
  });
  return { create, start, exec, kill, remove, cold: whole };
}

/**
 * Until the host's CPU was under `busy` (a fraction of all cores) for one `windowMs`: a timed
 * run then starts from a quiet host, not inside the tail of the work before it (a refill's
 * container start, a removal), whichever figure it is.
 */
export async function quietHost(busy = 0.15, windowMs = 100, giveUpMs = 5_000): Promise<void> {
  const cores = (await import('node:os')).cpus().length;
  for (const until = Date.now() + giveUpMs; Date.now() < until;) {
    const c0 = cpuBusySeconds();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, windowMs));
    if ((cpuBusySeconds() - c0) / (((performance.now() - t0) / 1000) * cores) < busy) return;
  }
}
