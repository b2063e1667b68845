/** What the fake adds beyond the contract suite: the behaviour hook, the registry, builds, bounds, filters, aborts. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeEngine, interpret } from '../../../src/adapters/engine-fake/index.js';
import { isBosunError } from '../../../src/domain/errors.js';
import type { EngineEvent } from '../../../src/domain/engine/index.js';

const isCode = (code: string) => (e: unknown) => isBosunError(e) && e.code === code;
const IMG = 'base:1';

describe('FakeEngine', () => {
  it('interprets simple commands and treats anything else as a server', () => {
    assert.deepEqual(interpret(['true']), { exitCode: 0 });
    assert.deepEqual(interpret(['sh', '-c', 'exit 4']), { exitCode: 4 });
    assert.deepEqual(interpret(['echo', 'a', 'b']), { exitCode: 0, stdout: 'a b\n' });
    assert.deepEqual(interpret(['sh', '-c', 'echo "x y"; sleep 2; echo e >&2 && exit 1']), { exitCode: 1, stdout: 'x y\n', stderr: 'e\n', runsForMs: 2000 });
    assert.deepEqual(interpret(['nginx', '-g', 'daemon off;']), {});
    assert.deepEqual(interpret([]), {});
  });

  it('runs what the behaviour says, for as long as it says', async () => {
    const e = new FakeEngine({ images: [IMG], behaviour: (spec) => ({ exitCode: 9, stdout: `ran ${spec.cmd?.join(' ')}\n`, runsForMs: 20 }) });
    const { id } = await e.containers.create({ image: IMG, cmd: ['anything'] });
    await e.containers.start(id);
    assert.equal((await e.containers.inspect(id))?.state.running, true, 'still running before runsForMs');
    assert.deepEqual(await e.containers.wait(id), { exitCode: 9 });
    assert.equal((await e.containers.logs(id)).stdout, 'ran anything\n');
    assert.equal((await e.containers.list({ all: true }))[0]?.exitCode, 9);
  });

  it('pulls only what its registry has', async () => {
    const e = new FakeEngine({ registry: [{ ref: 'redis', labels: { v: '7' } }] });
    assert.equal(await e.images.inspect('redis'), undefined);
    const img = await e.images.pull({ ref: 'redis:latest' });
    assert.equal(img.labels.v, '7');
    assert.equal((await e.images.inspect('redis'))?.id, img.id);
    await assert.rejects(e.images.pull({ ref: 'postgres:16' }), isCode('pull_failed'));
  });

  it('builds from a context: FROM must exist, LABELs and request labels land on the tagged image, a failing RUN is build_failed', async () => {
    const e = new FakeEngine({ images: [{ ref: IMG, labels: { from: 'base' } }] });
    const dir = mkdtempSync(join(tmpdir(), 'bosun-fake-build-'));
    try {
      writeFileSync(join(dir, 'Dockerfile'), `FROM ${IMG}\nLABEL a=1 b="two words"\nRUN echo hi\n`);
      const r = await e.images.build({ contextDir: dir, tag: 'app:1', labels: { req: 'x' } });
      assert.deepEqual((await e.images.inspect('app:1'))?.labels, { from: 'base', a: '1', b: 'two words', req: 'x' });
      assert.equal((await e.images.inspect('app:1'))?.id, r.imageId);
      assert.match(r.log, /Successfully tagged app:1/);
      writeFileSync(join(dir, 'Dockerfile'), `FROM ${IMG}\nRUN exit 7\n`);
      await assert.rejects(e.images.build({ contextDir: dir, tag: 'app:2' }), isCode('build_failed'));
      writeFileSync(join(dir, 'Dockerfile'), 'FROM nowhere:1\n');
      await assert.rejects(e.images.build({ contextDir: dir, tag: 'app:3' }), isCode('build_failed'));
      const { id } = await e.containers.create({ image: 'app:1' });
      await assert.rejects(e.images.remove('app:1'), isCode('conflict'));
      await e.containers.remove(id);
      await e.images.remove('app:1');
      assert.equal(await e.images.inspect('app:1'), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops an attach past stopAfterBytes and says overLimit; logs keep the tail and bounds', async () => {
    const e = new FakeEngine({ images: [IMG], behaviour: () => ({ stdout: 'line\n'.repeat(100) }) });
    const { id } = await e.containers.create({ image: IMG });
    const { output } = await e.containers.attach(id, { stopAfterBytes: 50, limitBytes: 20 });
    await e.containers.start(id);
    const out = await output;
    assert.equal(out.overLimit, true);
    assert.equal(out.stdout.length, 20);
    assert.equal(out.truncated, true);
    assert.equal((await e.containers.inspect(id))?.state.running, true, 'a server keeps running');
    assert.equal((await e.containers.logs(id, { tail: 2 })).stdout, 'line\nline\n');
    assert.equal((await e.containers.logs(id, { stdout: false })).stdoutBytes, 0);
    await e.containers.remove(id, { force: true });
  });

  it('ends a call with timeout when its signal aborts or its timeoutMs passes', async () => {
    const e = new FakeEngine({ images: [IMG] });
    const { id } = await e.containers.create({ image: IMG });
    await e.containers.start(id);
    const ctl = new AbortController();
    const waiting = e.containers.wait(id, { signal: ctl.signal });
    ctl.abort();
    await assert.rejects(waiting, isCode('timeout'));
    await assert.rejects(e.containers.wait(id, { timeoutMs: 10 }), isCode('timeout'));
    await assert.rejects(e.containers.inspect(id, { signal: AbortSignal.abort() }), isCode('timeout'));
    assert.equal((await e.containers.inspect(id))?.state.running, true);
    await e.containers.remove(id, { force: true });
  });

  it('restarts on failure up to the retry count, and refuses to remove a running container without force', async () => {
    const e = new FakeEngine({ images: [IMG] });
    const { id } = await e.containers.create({ image: IMG, cmd: ['false'], restartPolicy: { name: 'on-failure', maximumRetryCount: 2 } });
    const ctl = new AbortController();
    const seen: EngineEvent[] = [];
    const reading = (async () => {
      for await (const ev of e.events.stream({ signal: ctl.signal, resources: ['container'] })) seen.push(ev);
    })();
    await e.containers.start(id);
    while (seen.filter((ev) => ev.kind === 'died').length < 3) await new Promise((r) => setTimeout(r, 20));
    ctl.abort();
    await reading;
    assert.equal((await e.containers.inspect(id))?.state.restartCount, 2);
    const { id: srv } = await e.containers.create({ image: IMG });
    await e.containers.start(srv);
    await assert.rejects(e.containers.remove(srv), isCode('conflict'));
    await e.containers.remove(srv, { force: true });
  });

  it('filters events by label and resource, and replays from sinceNano', async () => {
    const e = new FakeEngine({ images: [IMG] });
    const before = BigInt(Date.now()) * 1_000_000n;
    await e.containers.create({ image: IMG, name: 'a', labels: { team: 'x' } });
    await e.containers.create({ image: IMG, name: 'b', labels: { team: 'y' } });
    await e.networks.ensure({ name: 'n1', labels: { team: 'x' } });
    const ctl = new AbortController();
    const seen: EngineEvent[] = [];
    for await (const ev of e.events.stream({ signal: ctl.signal, sinceNano: before, labels: { team: 'x' }, resources: ['container'] })) {
      seen.push(ev);
      ctl.abort();
    }
    assert.deepEqual(seen.map((ev) => [ev.resource, ev.kind, ev.name]), [['container', 'created', 'a']]);
  });
});
