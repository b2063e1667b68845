/**
 * Host memory that idle pool members hold (Linux, the engine on this host): per member, the
 * proportional set size (PSS) of its PID 1 and of its containerd shim — PSS splits a shared page
 * among the processes mapping it, so the sum over members is what they hold together — and its
 * memory cgroup's usage (what the kernel charges to the container: its pages and page cache).
 */
import { readFile, readdir } from 'node:fs/promises';
import { rawDocker } from '../test/helpers/raw-docker.js';

export interface IdleMemory {
  members: number;
  /** PSS of the members' PID 1 and shims together. */
  pssKiB: number;
  /** Of which the shims. */
  shimPssKiB: number;
  /** The members' memory cgroups together. */
  cgroupKiB: number;
}

async function pssKiB(pid: number): Promise<number> {
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
  return Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0);
}

/** The containerd shim serving a container: the process whose command line names its id. */
async function shimPids(ids: string[]): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = await readFile(`/proc/${entry}/cmdline`, 'utf8').then((s) => s.split('\0'), () => [] as string[]);
    if (!argv[0]?.includes('containerd-shim')) continue;
    const id = argv[argv.indexOf('-id') + 1];
    if (id && ids.includes(id)) found.set(id, Number(entry));
  }
  return found;
}

async function cgroupKiB(pid: number): Promise<number> {
  const lines = (await readFile(`/proc/${pid}/cgroup`, 'utf8')).trim().split('\n');
  const v1 = lines.find((l) => l.split(':')[1]?.split(',').includes('memory'));
  const file = v1 ? `/sys/fs/cgroup/memory${v1.split(':')[2]}/memory.usage_in_bytes` : `/sys/fs/cgroup${lines.find((l) => l.startsWith('0::'))?.slice(3)}/memory.current`;
  return Number(await readFile(file, 'utf8')) / 1024;
}

export async function idleMemory(host: string | undefined, ids: string[]): Promise<IdleMemory> {
  const docker = rawDocker(host);
  const shims = await shimPids(ids);
  const m: IdleMemory = { members: 0, pssKiB: 0, shimPssKiB: 0, cgroupKiB: 0 };
  for (const id of ids) {
    const pid = ((await docker.getContainer(id).inspect()) as { State: { Pid: number } }).State.Pid;
    const shim = shims.get(id);
    if (!pid || shim === undefined) throw new Error(`idle member ${id.slice(0, 12)}: no PID 1 (${pid}) or no shim found`);
    const shimPss = await pssKiB(shim);
    m.members++;
    m.shimPssKiB += shimPss;
    m.pssKiB += shimPss + (await pssKiB(pid));
    m.cgroupKiB += await cgroupKiB(pid);
  }
  return m;
}
