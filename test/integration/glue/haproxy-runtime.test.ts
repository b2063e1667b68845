/**
 * Server changes through HAProxy's runtime API, on a real haproxy (master mode) driven by the
 * real HaproxyHandler, with local HTTP servers as backends (the containers' part is in
 * haproxy-runtime-docker.test.ts): add / weight / remove without a reload (same worker pid),
 * a slow response in flight surviving the removal of its server, a new backend still reloading,
 * and a refused or unreachable runtime API falling back to a reload.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, readFile, unlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { HaproxyHandler } from '../../../src/glue/handlers/haproxy.js';
import { DEFAULT_TEMPLATE } from '../../../src/glue/render.js';
import { runCommand } from '../../../src/glue/run-command.js';
import { runtimeCommand } from '../../../src/glue/haproxy-socket.js';
import type { GlueContainer, HandlerConfig } from '../../../src/glue/types.js';
import { silentLogger } from '../../../src/util/log.js';
import { eventually } from '../../helpers/docker.js';
import { freePort, get, tempDir, type HttpReply } from './fixtures.js';

let dir: { path: string; remove(): Promise<void> };
let httpPort = 0;
let handler: HaproxyHandler;
const servers: Server[] = [];
const ctl = new AbortController();

interface Backend {
  port: number;
  /** Requests to /slow wait until this is called. */
  release(): void;
  slowSeen: Promise<void>;
}

/** An HTTP server answering its tag; `/slow` answers only after `release()`. */
async function backend(tag: string): Promise<Backend> {
  const port = await freePort();
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let seen!: () => void;
  const slowSeen = new Promise<void>((r) => (seen = r));
  const s = createServer((req, res) => {
    if (req.url === '/slow') {
      seen();
      void released.then(() => res.end(`slow:${tag}\n`));
    } else res.end(`${tag}\n`);
  });
  await new Promise<void>((r) => s.listen(port, '127.0.0.1', r));
  servers.push(s);
  return { port, release, slowSeen };
}

/**
 * A `/slow` request held open by one of `held`, sent again while it lands elsewhere: just after a
 * reload the old worker may still take a connection and answer for a backend it lacks (seen:
 * 404 "no route", once in twelve runs of this file; the test then waited forever). Bounded: a
 * request no backend sees ends at `get`'s socket timeout (5 s), the whole wait within about 25 s.
 */
async function slowInFlight(host: string, held: Backend[]): Promise<{ seen: Backend; reply: Promise<HttpReply> }> {
  return eventually(`a /slow request on ${host} held by a backend`, async () => {
    const reply = get(httpPort, '/slow', host);
    reply.catch(() => undefined);
    const first = await Promise.race([...held.map((b) => b.slowSeen.then(() => b)), reply]);
    if ('port' in first) return { seen: first, reply };
    throw new Error(`answered without reaching a backend: ${first.status} ${first.body}`);
  }, 20_000, 50);
}

/** A "container" on 127.0.0.1 routed by Host: the model, template and handler are the real ones. */
function container(name: string, port: number, host: string, weight = 10): GlueContainer {
  return {
    id: `${name}-0123456789ab`,
    name,
    image: 'none',
    labels: { [`glue_http_${port}_host`]: host, [`glue_http_${port}_weight`]: String(weight) },
    networks: { lo: '127.0.0.1' },
    exposedPorts: [`${port}/tcp`],
  };
}

async function apply(containers: GlueContainer[]): Promise<void> {
  await handler.handle({ event: { event: 'start', containerId: '' }, snapshot: async () => containers, signal: ctl.signal, log: silentLogger });
}

const socket = () => join(dir.path, 'haproxy.cfg.sock');
const cli = (c: string) => runtimeCommand(socket(), c);
const workerPid = async () => /^Pid: (\d+)/m.exec(await cli('show info'))?.[1];
const serversOf = async (backendName: string) => (await cli(`show servers state ${backendName}`)).split('\n').filter((l) => /^\d/.test(l)).map((l) => l.split(' ')[3]);
const backendName = (host: string) => `be_0_${host}_`;

before(async () => {
  dir = await tempDir('bosun-glue-rt-');
  httpPort = await freePort();
  await copyFile(DEFAULT_TEMPLATE, join(dir.path, 'haproxy.cfg.njk'));
  const cfg: HandlerConfig = {
    name: 'lb', file: join(dir.path, 'lb.ini'), type: 'haproxy', events: ['start'], enabled: true, triggersNone: false, dir: dir.path,
    params: { template: 'haproxy.cfg.njk', config_file: join(dir.path, 'haproxy.cfg'), http_bind: `127.0.0.1:${httpPort}` },
  };
  handler = new HaproxyHandler(cfg, silentLogger);
});

after(async () => {
  ctl.abort();
  await handler.close();
  for (const s of servers) s.close();
  await dir.remove();
});

test('add, re-weight and remove servers of an existing backend: runtime API, no reload, same worker', async () => {
  const [a, b] = [await backend('a'), await backend('b')];
  await apply([container('a', a.port, 'rt.test')]);
  await eventually('a serves', async () => (await get(httpPort, '/', 'rt.test')).body === 'a');
  const reloads = handler.process.reloads;
  const pid = await workerPid();
  assert.ok(pid, 'worker pid from show info');

  await apply([container('a', a.port, 'rt.test'), container('b', b.port, 'rt.test')]);
  const bodies = new Set<string>();
  for (let i = 0; i < 6; i++) bodies.add((await get(httpPort, '/', 'rt.test')).body);
  assert.deepEqual([...bodies].sort(), ['a', 'b'], 'the new server takes traffic at once (round robin)');
  assert.equal(handler.process.reloads, reloads, 'no reload for an added server');
  assert.equal(handler.process.runtimeUpdates, 1);
  assert.equal(await workerPid(), pid, 'same haproxy worker');
  const onDisk = await readFile(join(dir.path, 'haproxy.cfg'), 'utf8');
  assert.match(onDisk, new RegExp(`server b_${b.port} 127\\.0\\.0\\.1:${b.port} weight 10`), 'the file on disk has the new server');
  const check = await runCommand('haproxy', ['-c', '-q', '-f', join(dir.path, 'haproxy.cfg')], { timeoutMs: 15_000 });
  assert.equal(check.code, 0, `haproxy -c accepts the file written without a reload: ${check.stderr}`);

  await apply([container('a', a.port, 'rt.test'), container('b', b.port, 'rt.test', 42)]);
  assert.match(await cli(`get weight ${backendName('rt.test')}/b_${b.port}`), /^42 \(initial \d+\)$/);
  assert.equal(handler.process.reloads, reloads, 'no reload for a weight change');

  await apply([container('b', b.port, 'rt.test', 42)]);
  for (let i = 0; i < 4; i++) assert.equal((await get(httpPort, '/', 'rt.test')).body, 'b', 'a removed server takes no new request');
  await eventually('a deleted once drained', async () => !(await serversOf(backendName('rt.test'))).includes(`a_${a.port}`));
  assert.equal(handler.process.reloads, reloads, 'no reload for a removed server');
  assert.equal(await workerPid(), pid);
});

test('a slow response in flight completes although its server is removed meanwhile', async () => {
  const [s, t] = [await backend('s'), await backend('t')];
  await apply([container('s', s.port, 'slow.test')]);
  await eventually('s serves', async () => (await get(httpPort, '/', 'slow.test')).body === 's');
  // The reload for the new backend is done once the new worker answers on the stats socket too
  // (a runtime update sent before that falls back to a reload, which is not what this test is about).
  await eventually('the stats socket answers', async () => (await workerPid().catch(() => undefined)) !== undefined);
  const reloads = handler.process.reloads;
  const { reply: slow } = await slowInFlight('slow.test', [s]);
  await apply([container('t', t.port, 'slow.test')]);
  assert.equal(handler.process.reloads, reloads, 'the replacement went through the runtime API');
  assert.equal((await get(httpPort, '/', 'slow.test')).body, 't', 'new requests go to the new server');
  const name = `${backendName('slow.test')}/s_${s.port}`;
  assert.ok(handler.process.runtime?.drainingServers.includes(name), 'the old server is draining, not deleted');
  assert.ok((await serversOf(backendName('slow.test'))).includes(`s_${s.port}`), 'haproxy still has it');
  s.release();
  assert.deepEqual(await slow, { status: 200, body: 'slow:s' }, 'the request in flight completed');
  await eventually('s deleted after its request ended', async () => !(await serversOf(backendName('slow.test'))).includes(`s_${s.port}`));
});

test('a new backend still reloads (new worker)', async () => {
  const n = await backend('n');
  const reloads = handler.process.reloads;
  const pid = await workerPid();
  await apply([container('n', n.port, 'new.test')]);
  assert.equal(handler.process.reloads, reloads + 1);
  await eventually('n serves', async () => (await get(httpPort, '/', 'new.test')).body === 'n');
  await eventually('new worker answers the socket', async () => (await workerPid().catch(() => pid)) !== pid);
});

test('a server re-added while it still drains is put back in place (no reload, not deleted)', async () => {
  const [v, w] = [await backend('v'), await backend('w')];
  await apply([container('v', v.port, 'revive.test'), container('w', w.port, 'revive.test')]);
  await eventually('v serves', async () => (await get(httpPort, '/', 'revive.test')).body === 'v');
  const reloads = handler.process.reloads;
  const { seen, reply: slow } = await slowInFlight('revive.test', [v, w]);
  const [held, heldTag, other] = seen === v ? [v, 'v', container('w', w.port, 'revive.test')] : [w, 'w', container('v', v.port, 'revive.test')];
  await apply([other]);
  const name = `${backendName('revive.test')}/${heldTag}_${held.port}`;
  assert.ok(handler.process.runtime?.drainingServers.includes(name), `removed while its request is in flight: draining (${JSON.stringify({ reloads: handler.process.reloads - reloads, fallbacks: handler.process.runtimeFallbacks, draining: handler.process.runtime?.drainingServers, name })})`);
  await apply([other, container(heldTag, held.port, 'revive.test')]);
  assert.ok(!handler.process.runtime?.drainingServers.includes(name), 'revived, no longer draining');
  await eventually('the revived server takes requests again', async () => (await get(httpPort, '/', 'revive.test')).body === heldTag);
  held.release();
  assert.deepEqual(await slow, { status: 200, body: `slow:${heldTag}` });
  assert.equal(handler.process.reloads, reloads, 'no reload');
  assert.ok((await serversOf(backendName('revive.test'))).includes(`${heldTag}_${held.port}`), 'still in haproxy');
});

test('a runtime command haproxy refuses, or an unreachable socket, falls back to a reload', async () => {
  const [p, q, r] = [await backend('p'), await backend('q'), await backend('r')];
  await apply([container('p', p.port, 'fb.test')]);
  await eventually('p serves', async () => (await get(httpPort, '/', 'fb.test')).body === 'p');
  // HAProxy 2.6 refuses `cookie` on dynamic servers: the add fails, the reload path takes over
  const tpl = join(dir.path, 'haproxy.cfg.njk');
  const good = await readFile(tpl, 'utf8');
  const withCookie = good.replace('weight {{ s.weight }}\n{% endfor %}\n{% endfor %}\n{% for t in tcp %}', 'weight {{ s.weight }}{{ " cookie q" if s.name[0] == "q" }}\n{% endfor %}\n{% endfor %}\n{% for t in tcp %}');
  assert.notEqual(withCookie, good, 'template edited');
  await writeFile(tpl, withCookie);
  let reloads = handler.process.reloads;
  const fallbacks = handler.process.runtimeFallbacks;
  await apply([container('p', p.port, 'fb.test'), container('q', q.port, 'fb.test')]);
  assert.equal(handler.process.runtimeFallbacks, fallbacks + 1, 'the runtime API refused the add');
  assert.equal(handler.process.reloads, reloads + 1, 'and a reload applied it');
  await eventually('q serves after the reload', async () => (await get(httpPort, '/', 'fb.test')).body === 'q');

  // the socket file gone: connect fails, reload instead. (Last test: with `expose-fd listeners`
  // the new worker inherits the old, unlinked socket, so the path stays gone until a restart.)
  await eventually('socket answers', async () => (await workerPid().catch(() => undefined)) !== undefined);
  await unlink(socket());
  reloads = handler.process.reloads;
  await apply([container('p', p.port, 'fb.test'), container('q', q.port, 'fb.test'), container('r', r.port, 'fb.test')]);
  assert.equal(handler.process.runtimeFallbacks, fallbacks + 2);
  assert.equal(handler.process.reloads, reloads + 1);
  await eventually('r serves after the reload', async () => (await get(httpPort, '/', 'fb.test')).body === 'r');
});
