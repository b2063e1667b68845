/**
 * Glue + real Docker + real haproxy: Host and prefix routing, strip, weights, a stopped
 * container leaving the rotation, TCP, reloads without failed requests, a broken template
 * refused with the live config kept, a throwing plugin isolated, and the event stream
 * resumed (with `since`) after it breaks.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { DEFAULT_TEMPLATE } from '../../../src/glue/render.js';
import { runGlue } from '../../../src/glue/run.js';
import type { Glue } from '../../../src/glue/glue.js';
import { HaproxyHandler } from '../../../src/glue/handlers/haproxy.js';
import { LABEL } from '../../../src/domain/labels.js';
import { silentLogger } from '../../../src/util/log.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine, within } from '../../helpers/docker.js';
import { freePort, get, routed, startWeb, tempDir } from './fixtures.js';
import { createTestNetwork, removeTestNetwork, testNetworkName } from './fixtures.js';
import { breakableEngine } from './breakable-engine.js';

const engine = testEngine();
const runId = newRunId();
const flaky = breakableEngine(engine);
const ctl = new AbortController();
let dir: { path: string; remove(): Promise<void> };
let httpPort = 0;
let tcpPort = 0;
let glue: Glue | undefined;
let running: Promise<unknown> | undefined;
const scriptLog = () => readFile(join(dir.path, 'script.log'), 'utf8').catch(() => '');
const haproxy = () => glue?.workers.find((w) => w.cfg.name === 'lb');

before(async () => {
  await createTestNetwork(engine, runId);
  dir = await tempDir('bosun-glue-');
  httpPort = await freePort();
  tcpPort = await freePort();
  const d = dir.path;
  await copyFile(DEFAULT_TEMPLATE, join(d, 'haproxy.cfg.njk'));
  await writeFile(
    join(d, 'lb.ini'),
    `[handler]\nclass=DockerGlue.handlers.lb.HAProxyHandler\nevents=start,die,stop,kill,destroy,none\nenabled=1\n\n[params]\n` +
      `template=haproxy.cfg.njk\nconfig_file=${d}/haproxy.cfg\nhttp_bind=127.0.0.1:${httpPort}\ntcp_bind_address=127.0.0.1\ntcp_port_offset=${tcpPort - 6379}\n`,
  );
  await writeFile(join(d, 'record.sh'), `#!/bin/sh\necho "$2 $3 $(basename "$1")" >> "$(dirname "$1")/script.log"\n`, { mode: 0o755 });
  await writeFile(join(d, 'test.ini'), `[handler]\nclass=DockerGlue.handlers.exec.ScriptHandler\nevents=all\nenabled=1\n\n[params]\nscript=record.sh\n`);
  await writeFile(join(d, 'boom.ts'), `export function createHandler() {\n  return { handle(): void { throw new Error('plugin boom'); } };\n}\n`);
  await writeFile(join(d, 'boom.yaml'), `handler:\n  class: ./boom.ts\n  events: all\nparams:\n  retries: 1\n`);
  running = runGlue({
    configDir: d,
    mode: 'watch',
    engine: flaky,
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
  flaky.release();
  try {
    if (running) await within(running.catch(() => undefined), 60_000, 'glue stopping after the abort');
  } finally {
    const pid = (haproxy()?.handler as HaproxyHandler | undefined)?.process.pid;
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already stopped by glue's close
      }
    }
    await removeTestContainers(engine, runId);
    await removeTestNetwork(engine, runId);
    await dir.remove();
  }
});

test('Host (exact, subdomain, with port) and prefix routing, with and without strip', async () => {
  await startWeb(engine, runId, 'wp1', { glue_http_80_host: 'wp1.example.com' });
  await startWeb(engine, runId, 'api', { glue_http_80_host: 'example.com', glue_http_80_prefix: 'api', glue_http_80_strip_prefix: '1' });
  await startWeb(engine, runId, 'keep', { glue_http_80_host: 'example.com', glue_http_80_prefix: 'app' });
  await routed(httpPort, '/id.txt', 'wp1.example.com', 'root:wp1');
  assert.equal((await get(httpPort, '/id.txt', 'www.wp1.example.com')).body, 'root:wp1');
  assert.equal((await get(httpPort, '/id.txt', 'WP1.example.com:8080')).body, 'root:wp1');
  await routed(httpPort, '/api/id.txt', 'example.com', 'root:api');
  await routed(httpPort, '/app/id.txt', 'example.com', 'app:keep');
  assert.equal((await get(httpPort, '/apix/id.txt', 'example.com')).status, 404);
  assert.equal((await get(httpPort, '/id.txt', 'other.test')).status, 404);
});

test('weights show in the distribution; a stopped container leaves the rotation', async () => {
  await startWeb(engine, runId, 'heavy', { glue_http_80_host: 'w.test', glue_http_80_weight: '30' });
  const light = await startWeb(engine, runId, 'light', { glue_http_80_host: 'w.test', glue_http_80_weight: '10' });
  await routed(httpPort, '/id.txt', 'w.test', 'root:light');
  await routed(httpPort, '/id.txt', 'w.test', 'root:heavy');
  const counts: Record<string, number> = {};
  for (let i = 0; i < 80; i++) {
    const r = await get(httpPort, '/id.txt', 'w.test');
    counts[r.body] = (counts[r.body] ?? 0) + 1;
  }
  const heavy = counts['root:heavy'] ?? 0;
  assert.ok(heavy >= 50 && heavy <= 70, `heavy got ${heavy} of 80 (${JSON.stringify(counts)})`);
  await engine.containers.stop(light.id, { timeoutSec: 1 });
  await eventually('light out of rotation', async () => {
    for (let i = 0; i < 12; i++) if ((await get(httpPort, '/id.txt', 'w.test')).body !== 'root:heavy') return false;
    return true;
  });
});

test('a network disconnect / connect moves the route at once (no periodic resync in this test)', async () => {
  const web = await startWeb(engine, runId, 'netmove', { glue_http_80_host: 'netmove.test' });
  await routed(httpPort, '/id.txt', 'netmove.test', 'root:netmove');
  await engine.networks.disconnect(testNetworkName(runId), web.id, { force: true });
  await eventually('route gone after disconnect', async () => (await get(httpPort, '/id.txt', 'netmove.test')).status === 404, 20_000, 50);
  await engine.networks.connect(testNetworkName(runId), web.id, {});
  await routed(httpPort, '/id.txt', 'netmove.test', 'root:netmove');
});

test('a TCP port routes (mode tcp listener on port + offset)', async () => {
  await startWeb(engine, runId, 'tcp', { glue_tcp_ports: '6379' }, 6379);
  await routed(tcpPort, '/id.txt', undefined, 'root:tcp');
});

test('an open TCP connection survives reloads (the old worker finishes it)', async () => {
  const { id } = await engine.containers.create({
    image: TEST_IMAGE,
    cmd: ['nc', '-ll', '-p', '6380', '-e', 'cat'],
    exposedPorts: ['6380/tcp'],
    labels: { glue_tcp_ports: '6380', [LABEL.test]: runId },
    networkMode: testNetworkName(runId),
    stopSignal: 'SIGKILL',
  });
  await engine.containers.start(id);
  const sock = await eventually('echo routed', async () => {
    const s = connect(tcpPort + 1, '127.0.0.1');
    s.setEncoding('utf8');
    const ok = await roundTrip(s, 'ping1').catch(() => false);
    if (ok) return s;
    s.destroy();
    return undefined;
  });
  try {
    const before = (haproxy()?.handler as HaproxyHandler).process.reloads;
    await startWeb(engine, runId, 'reload1', { glue_http_80_host: 'reload1.test' });
    await routed(httpPort, '/id.txt', 'reload1.test', 'root:reload1');
    assert.ok((haproxy()?.handler as HaproxyHandler).process.reloads > before);
    assert.equal(await roundTrip(sock, 'ping2'), true, 'same connection still echoes after the reload');
  } finally {
    sock.destroy();
  }
});

function roundTrip(s: Socket, text: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (d: string) => {
      got += d;
      if (got.includes(text)) done(true);
    };
    const onEnd = () => done(false);
    const timer = setTimeout(() => done(false), 3000);
    const done = (v: boolean) => {
      clearTimeout(timer);
      s.off('data', onData);
      s.off('close', onEnd);
      s.off('error', reject);
      resolve(v);
    };
    s.on('data', onData);
    s.once('close', onEnd);
    s.once('error', reject);
    s.write(`${text}\n`);
  });
}

test('reloads do not fail requests in flight', async () => {
  let failed = 0;
  let ok = 0;
  let stop = false;
  const load = (async () => {
    while (!stop) {
      const r = await get(httpPort, '/id.txt', 'wp1.example.com').catch(() => undefined);
      if (r?.status === 200) ok++;
      else failed++;
    }
  })();
  const before = (haproxy()?.handler as HaproxyHandler).process.reloads;
  for (let i = 0; i < 4; i++) await startWeb(engine, runId, `churn${i}`, { glue_http_80_host: `churn${i}.test` });
  await routed(httpPort, '/id.txt', 'churn3.test', 'root:churn3');
  stop = true;
  await load;
  assert.ok((haproxy()?.handler as HaproxyHandler).process.reloads > before, 'haproxy reloaded');
  assert.ok(ok > 0);
  assert.equal(failed, 0, `${failed} of ${ok + failed} requests failed during reloads`);
});

test('a broken template is refused and the live config stays', async () => {
  const live = await readFile(join(dir.path, 'haproxy.cfg'), 'utf8');
  const tpl = join(dir.path, 'haproxy.cfg.njk');
  const good = await readFile(tpl, 'utf8');
  const worker = haproxy()!;
  for (const broken of [good.replace('global', 'global\n    this_is_not_a_keyword 1'), `${good}\n{% for x in %}`]) {
    await writeFile(tpl, broken);
    const failures = worker.failures;
    await startWeb(engine, runId, 'late', { glue_http_80_host: 'refused.test' });
    await eventually('handler failure reported', async () => worker.failures > failures);
    await glue!.idle();
    assert.equal(await readFile(join(dir.path, 'haproxy.cfg'), 'utf8'), live, 'live config untouched');
    assert.equal((await get(httpPort, '/id.txt', 'wp1.example.com')).body, 'root:wp1', 'old routes still served');
    assert.equal((await get(httpPort, '/id.txt', 'refused.test')).status, 404);
  }
  await writeFile(tpl, good);
  glue!.dispatch({ event: 'resync', containerId: '' });
  await routed(httpPort, '/id.txt', 'refused.test', 'root:late');
});

test('a throwing plugin does not stop the others; the script gets <config> <event> <id>', async () => {
  const boom = glue!.workers.find((w) => w.cfg.name === 'boom')!;
  assert.ok(boom.failures > 0, 'the plugin threw');
  const wp1 = (await engine.containers.list({ labels: { [LABEL.test]: runId } })).find((c) => c.name.startsWith('glue-wp1'))!;
  await eventually('script saw start', async () => (await scriptLog()).includes(`start ${wp1.id} test.ini`));
});

test('the event stream resumes after it breaks: events in between are replayed (since)', async () => {
  flaky.breakAndHold();
  const late = await startWeb(engine, runId, 'gap', { glue_http_80_host: 'gap.test' });
  await appendFile(join(dir.path, 'script.log'), '');
  assert.ok(!(await scriptLog()).includes(`start ${late.id}`));
  flaky.release();
  await routed(httpPort, '/id.txt', 'gap.test', 'root:gap');
  await eventually('replayed start reached the script', async () => (await scriptLog()).includes(`start ${late.id}`));
  assert.ok(flaky.subscriptions() >= 2);
});
