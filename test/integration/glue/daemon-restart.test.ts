/**
 * A Docker daemon restart is survived: glue watches a second dockerd of its own (own
 * data-root, exec-root, socket, pidfile, no bridge, no iptables — the shared engine is never
 * restarted), the daemon is stopped and started again by PID, and events after the restart
 * still reach the handlers (the stream broke with engine_unavailable and resumed with since).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createEngine } from '../../../src/adapters/engine-factory.js';
import type { ContainerEngine } from '../../../src/ports/engine.js';
import { runGlue } from '../../../src/glue/run.js';
import { silentLogger } from '../../../src/util/log.js';
import { TEST_IMAGE, eventually, within, withCleanup, childBound } from '../../helpers/docker.js';
import { createBridge, deleteBridge } from '../../helpers/engines.js';

const root = `/tmp/bgd-${randomBytes(3).toString('hex')}`;
const sock = join(root, 'docker.sock');
const ns = `bosun-glue-${process.pid}`;
let daemon: ChildProcess | undefined;
const engine = createEngine({ host: `unix://${sock}` });
const scriptLog = () => readFile(join(root, 'cfg', 'script.log'), 'utf8').catch(() => '');

let bridge: string | undefined;

async function startDaemon(): Promise<void> {
  // Its own bridge: with --bridge=none dockerd deletes the host's docker0 at start-up.
  bridge ??= await createBridge(90);
  daemon = spawn(
    'dockerd',
    [
      '--data-root', join(root, 'data'), '--exec-root', join(root, 'exec'), '-H', `unix://${sock}`, '--pidfile', join(root, 'docker.pid'),
      `--bridge=${bridge}`, '--iptables=false', '--ip-masq=false', '--containerd-namespace', ns, '--containerd-plugins-namespace', `${ns}-plugins`,
      '--storage-driver', 'vfs', '--log-level', 'error',
    ],
    { stdio: 'ignore' },
  );
  await eventually('private dockerd up', async () => (await engine.info()).id !== '', 60_000, 200);
}

async function stopDaemon(): Promise<void> {
  const d = daemon;
  if (!d || d.exitCode !== null || d.signalCode !== null) return;
  const exited = new Promise((r) => d.once('exit', r));
  process.kill(d.pid!, 'SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
  if (d.exitCode === null && d.signalCode === null) process.kill(d.pid!, 'SIGKILL');
}

function load(): Promise<void> {
  return new Promise((resolve, reject) => {
    const bounded = childBound();
    const save = spawn('docker', ['save', TEST_IMAGE], { stdio: ['ignore', 'pipe', 'ignore'], ...bounded });
    const ld = spawn('docker', ['-H', `unix://${sock}`, 'load'], { stdio: ['pipe', 'ignore', 'ignore'], ...bounded });
    // A load killed at the bound while save still writes: EPIPE on its stdin, reported by the exit below.
    ld.stdin.on('error', () => undefined);
    save.stdout.pipe(ld.stdin);
    let saved: string | undefined;
    save.once('exit', (code, signal) => (saved = code === 0 ? undefined : `docker save exited ${code ?? signal}; `));
    ld.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${saved ?? ''}docker load exited ${code ?? signal}`))));
  });
}

async function run(name: string): Promise<string> {
  const { id } = await engine.containers.create({ name, image: TEST_IMAGE, cmd: ['sleep', '300'], networkMode: 'none', stopSignal: 'SIGKILL' });
  await engine.containers.start(id);
  return id;
}

before(async () => {
  await mkdir(join(root, 'cfg'), { recursive: true });
  await startDaemon();
  await load();
  await writeFile(join(root, 'cfg', 'record.sh'), `#!/bin/sh\necho "$2 $3" >> "$(dirname "$1")/script.log"\n`, { mode: 0o755 });
  await writeFile(join(root, 'cfg', 'rec.ini'), `[handler]\nclass=DockerGlue.handlers.exec.ScriptHandler\nevents=start\n\n[params]\nscript=record.sh\n`);
});

after(async () => {
  for (const c of await engine.containers.list({ all: true }).catch(() => [])) await engine.containers.remove(c.id, { force: true }).catch(() => undefined);
  await stopDaemon();
  await rm(root, { recursive: true, force: true });
  if (bridge) await deleteBridge(bridge);
});

test('events after a daemon restart still reach the handlers', async () => {
  const ctl = new AbortController();
  let reconnects = 0;
  const running = runGlue({
    configDir: join(root, 'cfg'),
    mode: 'watch',
    engine,
    log: silentLogger,
    signal: ctl.signal,
    resyncMs: 0,
    deps: { createTransport: () => Promise.reject(new Error('unused')), defaultBrokerUrl: '' },
    onReady: (g) => {
      const dispatch = g.dispatch.bind(g);
      g.dispatch = (ev) => {
        if (ev.event === 'resync') reconnects++;
        dispatch(ev);
      };
    },
  });
  await withCleanup(async () => {
    const a = await run('before-restart');
    await eventually('start before the restart', async () => (await scriptLog()).includes(`start ${a}`));
    await stopDaemon();
    await startDaemon();
    const b = await run('after-restart');
    await eventually('start after the restart', async () => (await scriptLog()).includes(`start ${b}`), 60_000);
    assert.ok(reconnects >= 1, 'the watch reconnected and resynced');
  }, async () => {
    ctl.abort();
    await within(running, 60_000, 'glue stopping after the abort');
  });
});
