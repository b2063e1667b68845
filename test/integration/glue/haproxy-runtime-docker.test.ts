/**
 * Glue + real Docker + real haproxy: a container joining or leaving an existing backend goes
 * through the runtime API — no reload, the same haproxy worker — and traffic follows.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runGlue } from '../../../src/glue/run.js';
import type { Glue } from '../../../src/glue/glue.js';
import type { HaproxyHandler } from '../../../src/glue/handlers/haproxy.js';
import { runtimeCommand } from '../../../src/glue/haproxy-socket.js';
import { LABEL } from '../../../src/domain/labels.js';
import { silentLogger } from '../../../src/util/log.js';
import { eventually, newRunId, removeTestContainers, testEngine, within } from '../../helpers/docker.js';
import { createTestNetwork, freePort, get, removeTestNetwork, routed, startWeb, tempDir } from './fixtures.js';

const engine = testEngine();
const runId = newRunId();
const ctl = new AbortController();
let dir: { path: string; remove(): Promise<void> };
let httpPort = 0;
let glue: Glue | undefined;
let running: Promise<unknown> | undefined;
const lb = () => glue!.workers.find((w) => w.cfg.name === 'lb')!.handler as HaproxyHandler;
const workerPid = async () => /^Pid: (\d+)/m.exec(await runtimeCommand(join(dir.path, 'haproxy.cfg.sock'), 'show info'))?.[1];

before(async () => {
  await createTestNetwork(engine, runId);
  dir = await tempDir('bosun-glue-rtd-');
  httpPort = await freePort();
  await writeFile(
    join(dir.path, 'lb.ini'),
    `[handler]\nclass=DockerGlue.handlers.lb.HAProxyHandler\nevents=start,die,stop,kill,destroy,none\nenabled=1\n\n[params]\n` +
      `config_file=${dir.path}/haproxy.cfg\nhttp_bind=127.0.0.1:${httpPort}\n`,
  );
  running = runGlue({
    configDir: dir.path,
    mode: 'watch',
    engine,
    log: silentLogger,
    signal: ctl.signal,
    resyncMs: 0,
    labels: { [LABEL.test]: runId },
    deps: { createTransport: () => Promise.reject(new Error('no broker in this test')), defaultBrokerUrl: '' },
    onReady: (g) => (glue = g),
  });
  await eventually('haproxy up', async () => (await get(httpPort, '/', 'nobody.test')).status === 404);
});

after(async () => {
  ctl.abort();
  try {
    if (running) await within(running.catch(() => undefined), 60_000, 'glue stopping after the abort');
  } finally {
    await removeTestContainers(engine, runId);
    await removeTestNetwork(engine, runId);
    await dir.remove();
  }
});

test('a container start joins an existing backend via the runtime API; a stop leaves it; no reload either way', async () => {
  await startWeb(engine, runId, 'rt1', { glue_http_80_host: 'rt.test' });
  await routed(httpPort, '/id.txt', 'rt.test', 'root:rt1');
  await glue!.idle();
  const reloads = lb().process.reloads;
  const updates = lb().process.runtimeUpdates;
  const pid = await workerPid();
  assert.ok(pid);

  const two = await startWeb(engine, runId, 'rt2', { glue_http_80_host: 'rt.test' });
  await routed(httpPort, '/id.txt', 'rt.test', 'root:rt2');
  await glue!.idle();
  assert.equal(lb().process.reloads, reloads, 'no reload for the second container');
  assert.ok(lb().process.runtimeUpdates > updates, 'applied through the runtime API');
  assert.equal(await workerPid(), pid, 'the same haproxy worker serves it');

  await engine.containers.stop(two.id, { timeoutSec: 1 });
  await eventually('rt2 out of rotation', async () => {
    for (let i = 0; i < 8; i++) if ((await get(httpPort, '/id.txt', 'rt.test')).body !== 'root:rt1') return false;
    return true;
  });
  await glue!.idle();
  const state = () => runtimeCommand(join(dir.path, 'haproxy.cfg.sock'), 'show servers state be_0_rt.test_');
  assert.match(await state(), /glue-rt1/, 'the query lists the backend\'s servers');
  await eventually('rt2 deleted from haproxy', async () => !(await state()).includes('glue-rt2'));
  assert.equal(lb().process.reloads, reloads, 'no reload for the stop');
  assert.equal(await workerPid(), pid);
});
