/**
 * Glue's etcd v3 publisher against a private etcd: keys appear and disappear with the
 * containers; a killed glue's keys expire with its lease; a clean exit revokes them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { Etcd3 } from 'etcd3';
import { runGlue } from '../../../src/glue/run.js';
import { LABEL } from '../../../src/domain/labels.js';
import { silentLogger } from '../../../src/util/log.js';
import { eventually, newRunId, removeTestContainers, testEngine, within, withCleanup } from '../../helpers/docker.js';
import { killChild } from '../../helpers/agent.js';
import { startEtcd, startWeb, tempDir, type EtcdServer } from './fixtures.js';
import { createTestNetwork, removeTestNetwork, testNetworkName } from './fixtures.js';

const engine = testEngine();
const runId = newRunId();
let etcd: EtcdServer;
let client: Etcd3;
let dir: { path: string; remove(): Promise<void> };
const prefix = `/bosun-test/${runId}`;

async function keys(): Promise<Record<string, string>> {
  return client.getAll().prefix(prefix).strings();
}

before(async () => {
  await createTestNetwork(engine, runId);
  dir = await tempDir('bosun-glue-etcd-');
  etcd = await startEtcd(join(dir.path, 'etcd-data'));
  client = new Etcd3({ hosts: etcd.url });
  await writeFile(
    join(dir.path, 'publisher.ini'),
    `[handler]\nclass=DockerGlue.handlers.publishers.distconfig.Publisher\nevents=all,none\nenabled=1\n\n[params]\nendpoints=${etcd.url}\nprefix=${prefix}\nttl=3\nnode=test-node\n`,
  );
});

after(async () => {
  client?.close();
  await removeTestContainers(engine, runId);
  await removeTestNetwork(engine, runId);
  await etcd?.stop();
  await dir?.remove();
});

test('keys appear with a routable container and go on stop; a clean exit revokes the lease', async () => {
  const ctl = new AbortController();
  const running = runGlue({
    configDir: dir.path,
    mode: 'watch',
    engine,
    log: silentLogger,
    signal: ctl.signal,
    resyncMs: 0,
    labels: { [LABEL.test]: runId },
    deps: { createTransport: () => Promise.reject(new Error('unused')), defaultBrokerUrl: '' },
  });
  await withCleanup(async () => {
    const web = await startWeb(engine, runId, 'disc', { glue_http_80_host: 'disc.test', glue_service: 'shop' });
    await startWeb(engine, runId, 'plain', {});
    const key = `${prefix}/services/shop/${web.id.slice(0, 12)}`;
    const value = await eventually('key published', async () => (await keys())[key]);
    const rec = JSON.parse(value) as { address: string; node: string; ports: { port: number; proto: string; host: string }[]; labels: Record<string, string> };
    const ip = (await engine.containers.inspect(web.id))!.networks[testNetworkName(runId)]!.ipAddress;
    assert.equal(rec.address, ip);
    assert.equal(rec.node, 'test-node');
    assert.deepEqual(rec.ports.map((p) => [p.port, p.proto, p.host]), [[80, 'http', 'disc.test']]);
    assert.equal(Object.keys(await keys()).length, 1, 'the unlabelled container is not published');
    const lease = await client.get(key).exec();
    assert.notEqual(lease.kvs[0]!.lease, '0', 'the key is on a lease');
    // A lost lease (revoked here; an etcd outage longer than the TTL does the same) is replaced at once.
    await client.leaseClient.leaseRevoke({ ID: lease.kvs[0]!.lease });
    const back = await eventually('re-published on a new lease', async () => {
      const r = await client.get(key).exec();
      return r.kvs[0] && r.kvs[0].lease !== lease.kvs[0]!.lease ? r.kvs[0] : undefined;
    });
    assert.equal(back.value.toString(), value);
    await engine.containers.stop(web.id, { timeoutSec: 1 });
    await eventually('key removed on stop', async () => !(key in (await keys())));
    await startWeb(engine, runId, 'disc2', { glue_http_80_host: 'disc.test', glue_service: 'shop' });
    await eventually('second key', async () => Object.keys(await keys()).length === 1);
  }, async () => {
    ctl.abort();
    await within(running, 60_000, 'glue stopping after the abort');
  });
  assert.deepEqual(await keys(), {}, 'lease revoked on a clean exit');
});

test("a killed glue's keys expire with its lease", async () => {
  const web = await startWeb(engine, runId, 'orphan', { glue_http_80_host: 'orphan.test' });
  const cli = new URL('../../../src/app/cli.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'glue', '-w', '--config-dir', dir.path, '--only-label', `${LABEL.test}=${runId}`, '--resync-ms', '0'], {
    stdio: 'ignore',
    env: { ...process.env, BOSUN_LOG_LEVEL: 'warn' },
  });
  try {
    const key = await eventually('key published by the glue process', async () => Object.keys(await keys()).find((k) => k.endsWith(web.id.slice(0, 12))), 30_000);
    await killChild(child);
    assert.ok(key in (await keys()), 'still there right after the kill');
    await eventually('key expired', async () => !(key in (await keys())), 20_000, 250);
  } finally {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
  }
});
