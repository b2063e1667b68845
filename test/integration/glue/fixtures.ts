/** Fixtures of the glue integration tests: web containers, free ports, HTTP through haproxy, a private etcd. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerEngine } from '../../../src/ports/engine.js';
import { LABEL } from '../../../src/domain/labels.js';
import { TEST_IMAGE, eventually, uniqueName } from '../../helpers/docker.js';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * A busybox httpd answering `/id.txt` with "root:<tag>" and `/app/id.txt` with "app:<tag>",
 * so a response tells which container answered and whether the prefix was stripped.
 */
export async function startWeb(
  engine: ContainerEngine,
  runId: string,
  tag: string,
  labels: Record<string, string>,
  port = 80,
  network = testNetworkName(runId),
): Promise<{ id: string; name: string }> {
  const name = uniqueName(`glue-${tag}`);
  const script = `mkdir -p /www/app && echo root:${tag} > /www/id.txt && echo app:${tag} > /www/app/id.txt && exec httpd -f -p ${port} -h /www`;
  const { id } = await engine.containers.create({
    name,
    image: TEST_IMAGE,
    cmd: ['sh', '-c', script],
    exposedPorts: [`${port}/tcp`],
    labels: { ...labels, [LABEL.test]: runId },
    stopTimeoutSec: 1,
    stopSignal: 'SIGKILL',
    networkMode: network,
  });
  await engine.containers.start(id);
  return { id, name };
}

/**
 * Glue tests put their containers on their own bridge network rather than the default
 * bridge: it does not depend on docker0 (which a second dockerd on the host can take away)
 * and keeps each run's addresses apart.
 */
export function testNetworkName(runId: string): string {
  return `glue-${runId}`;
}

export async function createTestNetwork(engine: ContainerEngine, runId: string): Promise<string> {
  const name = testNetworkName(runId);
  await engine.networks.ensure({ name, labels: { [LABEL.test]: runId } });
  return name;
}

export async function removeTestNetwork(engine: ContainerEngine, runId: string): Promise<void> {
  await engine.networks.remove(testNetworkName(runId)).catch(() => undefined);
}

export interface HttpReply {
  status: number;
  body: string;
}

/** One request on a fresh connection (so HAProxy balances every request). */
export function get(port: number, path: string, host?: string): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: host ? { host } : {}, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Waits until `path` on `host` answers 200 with `body`. */
export function routed(port: number, path: string, host: string | undefined, body: string, timeoutMs = 20_000): Promise<HttpReply> {
  return eventually(`${host ?? '*'}${path} → ${body}`, async () => {
    const r = await get(port, path, host);
    return r.status === 200 && r.body === body ? r : undefined;
  }, timeoutMs, 50);
}

export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export interface EtcdServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** A private etcd on free loopback ports with its own data dir; stopped by PID. */
export async function startEtcd(dataDir: string): Promise<EtcdServer> {
  const client = await freePort();
  const peer = await freePort();
  const url = `http://127.0.0.1:${client}`;
  const child: ChildProcess = spawn(
    'etcd',
    [
      '--name', 'glue-test', '--data-dir', dataDir,
      '--listen-client-urls', url, '--advertise-client-urls', url,
      '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
      '--initial-cluster', `glue-test=http://127.0.0.1:${peer}`, '--log-level', 'error',
    ],
    { stdio: 'ignore' },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error('etcd did not start');
  await eventually('etcd health', async () => {
    const r = await fetch(`${url}/health`).catch(() => undefined);
    return r?.ok ? true : undefined;
  }, 20_000, 100);
  return {
    url,
    pid,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(pid, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
    },
  };
}
