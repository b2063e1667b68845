/**
 * Host memory that idle pool members hold (Linux, the engine on this host): per member, the
 * proportional set size (PSS) of its PID 1 and of its containerd shim — PSS splits a shared page
 * among the processes mapping it, so the sum over members is what they hold together — and its
 * memory cgroup's usage (what the kernel charges to the container: its pages, page cache and
 * kernel memory; PID 1's own pages are in both figures, so their sum is an upper bound).
 */
import { readFile, readdir } from 'node:fs/promises';
import { rawDocker } from '../test/helpers/raw-docker.js';

export interface IdleMemory {
  members: number;
  /** PSS of the members' PID 1 and shims together. */
  pssKiB: number;
  /** Of which the shims. */
  shimPssKiB: number;
  /** The members' memory cgroups together (NaN where the host has no memory controller to read). */
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

/** Where the memory controller is mounted: a v1 hierarchy naming it, else the v2 one (/proc/self/mountinfo). */
async function memoryMount(): Promise<{ v1: boolean; path: string } | undefined> {
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8')).trim().split('\n').map((l) => {
    const [pre, post = ''] = l.split(' - ');
    const [fstype = '', , superOpts = ''] = post.split(' ');
    return { path: pre?.split(' ')[4] ?? '', fstype, superOpts: superOpts.split(',') };
  });
  const v1 = mounts.find((m) => m.fstype === 'cgroup' && m.superOpts.includes('memory'));
  if (v1) return { v1: true, path: v1.path };
  const v2 = mounts.find((m) => m.fstype === 'cgroup2');
  return v2 ? { v1: false, path: v2.path } : undefined;
}

/** The memory cgroup's usage of a process, or NaN where it cannot be read (no memory controller). */
async function cgroupKiB(pid: number): Promise<number> {
  try {
    const mount = await memoryMount();
    if (!mount) return NaN;
    const lines = (await readFile(`/proc/${pid}/cgroup`, 'utf8')).trim().split('\n').map((l) => l.split(':'));
    const own = mount.v1 ? lines.find((l) => l[1]?.split(',').includes('memory')) : lines.find((l) => l[0] === '0' && l[1] === '');
    if (!own) return NaN;
    const file = `${mount.path}${own.slice(2).join(':')}/${mount.v1 ? 'memory.usage_in_bytes' : 'memory.current'}`;
    return Number(await readFile(file, 'utf8')) / 1024;
  } catch {
    return NaN;
  }
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
