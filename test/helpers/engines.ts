/**
 * Starts extra Docker engines on this machine for multi-node tests: each with its own
 * data-root, exec-root, socket, pidfile, containerd namespace and its own bridge. Stopped by PID.
 * Never `--bridge=none`: dockerd then deletes the host's docker0 at start-up
 * (removeDefaultBridgeInterface), breaking the main engine and every other test.
 * The test image is copied in with `docker save | docker load` (no registry is reachable).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PODMAN_DEFAULT_HOST, createEngine } from '../../src/adapters/engine-factory.js';
import type { ContainerEngine } from '../../src/ports/engine.js';
import { TEST_IMAGE, eventually, fileBudget } from './docker.js';

export interface ExtraEngine {
  name: string;
  host: string;
  dir: string;
  proc: ChildProcess;
  engine: ContainerEngine;
  /** Stops the daemon (SIGTERM, then SIGKILL) and waits for it to exit. */
  stop(): Promise<void>;
}

let imageTar: Promise<string> | undefined;

function run(cmd: string, args: string[], opts: { stdinFile?: string; stdoutFile?: string; timeoutMs?: number } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const stdin = opts.stdinFile ? openSync(opts.stdinFile, 'r') : 'ignore';
    const stdout = opts.stdoutFile ? openSync(opts.stdoutFile, 'w') : 'ignore';
    // Bounded: a wedged docker CLI is killed and the setup fails with its stderr.
    const p = spawn(cmd, args, { stdio: [stdin, stdout, 'pipe'], timeout: opts.timeoutMs ?? fileBudget(120_000), killSignal: 'SIGKILL' });
    let err = '';
    p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} → ${code ?? signal}: ${err}`))));
  });
}

async function savedImage(root: string): Promise<string> {
  imageTar ??= (async () => {
    const tar = join(root, 'image.tar');
    await run('docker', ['save', '-o', tar, TEST_IMAGE]);
    return tar;
  })();
  return imageTar;
}

export async function startEngine(root: string, name: string, index: number): Promise<ExtraEngine> {
  const dir = join(root, name);
  mkdirSync(join(dir, 'data'), { recursive: true });
  mkdirSync(join(dir, 'exec'), { recursive: true });
  const sock = join(dir, 'docker.sock');
  const logFd = openSync(join(dir, 'dockerd.log'), 'a');
  const ns = `bosun-${name}-${process.pid}`;
  const bridge = await createBridge(index);
  const proc = spawn('dockerd', [
    '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '-H', `unix://${sock}`, '--pidfile', join(dir, 'docker.pid'),
    `--bridge=${bridge}`, '--iptables=false', '--ip-masq=false', '--containerd-namespace', ns, '--containerd-plugins-namespace', `${ns}-plugins`, '--log-level', 'warn',
    '--storage-driver', process.env.BOSUN_TEST_STORAGE_DRIVER ?? 'vfs',
  ], { stdio: ['ignore', logFd, logFd], detached: false });
  const host = `unix://${sock}`;
  const engine = createEngine({ host });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  await eventually(`dockerd ${name} (see ${dir}/dockerd.log)`, async () => (await engine.info()).serverVersion, 30_000, 200);
  await run('docker', ['-H', host, 'load', '-q'], { stdinFile: await savedImage(root) });
  return {
    name, host, dir, proc, engine,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(t);
      }
      await run('ip', ['link', 'delete', bridge]).catch(() => undefined);
    },
  };
}

/** A bridge of this engine's own (name ≤ 15 chars), on a subnet no other engine uses. */
export async function createBridge(index: number): Promise<string> {
  const name = `bsn${process.pid % 100000}x${index}`;
  const octet = ((process.pid + index * 37) % 250) + 1;
  await run('ip', ['link', 'delete', name]).catch(() => undefined);
  await run('ip', ['link', 'add', name, 'type', 'bridge']);
  try {
    await run('ip', ['addr', 'add', `10.249.${octet}.1/24`, 'dev', name]);
    await run('ip', ['link', 'set', name, 'up']);
  } catch (e) {
    await run('ip', ['link', 'delete', name]).catch(() => undefined);
    throw e;
  }
  return name;
}

export async function deleteBridge(name: string): Promise<void> {
  await run('ip', ['link', 'delete', name]).catch(() => undefined);
}

/** Removes everything the engines left (after they stopped). */
export function removeEngineDirs(root: string): void {
  if (process.env.BOSUN_KEEP_TEST_DIR === '1') return void console.error(`kept ${root}`);
  try {
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  } catch {
    // leftover mounts are cleaned by the OS tmp policy
  }
}

/** Podman's Docker-compatible socket, as scripts/ensure-podman.sh serves it. */
export const PODMAN_HOST = process.env.BOSUN_PODMAN_HOST ?? PODMAN_DEFAULT_HOST;

/** Makes sure Podman serves (installs and starts it when missing; idempotent) and connects to it. */
export async function podmanEngine(): Promise<ContainerEngine> {
  // The script may wait up to 10 min for dpkg's lock and install Podman: a bound of its own.
  await run('bash', [join(import.meta.dirname, '../../scripts/ensure-podman.sh')], { timeoutMs: 900_000 });
  return createEngine({ kind: 'podman', host: PODMAN_HOST });
}
