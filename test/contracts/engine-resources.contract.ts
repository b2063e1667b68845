/**
 * The engine contract's second half: images, networks, volumes and the event stream.
 * Called by engineContract (engine.contract.ts) inside its describe block.
 */
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBosunError } from '../../src/domain/errors.js';
import type { EventsRequest } from '../../src/domain/engine/index.js';
import { eventually, uniqueName } from '../helpers/docker.js';
import type { ContractContext } from './engine.contract.js';

const isCode = (code: string) => (e: unknown) => isBosunError(e) && e.code === code;

function nowNano(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

export function resourceContract(ctx: ContractContext): void {
  const { labels } = ctx;
  const e = () => ctx.engine;
  const networks: string[] = [];
  const volumes: string[] = [];
  const images: string[] = [];
  after(async () => {
    for (const n of networks) await e().networks.remove(n);
    for (const v of volumes) await e().volumes.remove(v);
    for (const i of images) await e().images.remove(i, { force: true });
  });

  /** Reads the event stream in the background; only the abort from stop() ends it quietly. */
  function collectEvents(req: Omit<EventsRequest, 'signal'>) {
    const ctl = new AbortController();
    const seen: { key: string; id: string; timeNano: bigint; name?: string; exitCode?: number; attributes: Record<string, string> }[] = [];
    const reading = (async () => {
      try {
        for await (const ev of e().events.stream({ ...req, signal: ctl.signal })) seen.push({ key: `${ev.kind}:${ev.id}`, id: ev.id, timeNano: ev.timeNano, ...(ev.name ? { name: ev.name } : {}), ...(ev.exitCode !== undefined ? { exitCode: ev.exitCode } : {}), attributes: ev.attributes });
      } catch (err) {
        if (!ctl.signal.aborted) throw err;
      }
    })();
    return {
      seen,
      async stop() {
        ctl.abort();
        await reading;
      },
    };
  }

  it('inspects a local image under the name it was given, and not a missing one', async () => {
    const img = await e().images.inspect(ctx.image);
    assert.ok(img, `${ctx.image} is present`);
    assert.ok(img.tags.includes(ctx.image), JSON.stringify(img.tags));
    assert.equal(img.labels['bosun.test'], 'true');
    assert.equal(await e().images.inspect('bosun-no-such-image:never'), undefined);
  });

  it('builds an image from a context, runs it, and removes it (twice)', ctx.engineOnly('a build runs a real Dockerfile'), async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bosun-build-'));
    const tag = `bosun-contract-${ctx.runId}:1`;
    images.push(tag);
    try {
      writeFileSync(join(dir, 'Dockerfile'), `FROM ${ctx.image}\nRUN echo built > /built\n`);
      const r = await e().images.build({ contextDir: dir, tag, labels: { [Object.keys(labels)[0]!]: ctx.runId } });
      assert.ok(r.imageId);
      const img = await e().images.inspect(tag);
      assert.equal(img?.id, r.imageId);
      assert.ok(img?.tags.includes(tag), JSON.stringify(img?.tags));
      assert.equal(img?.labels[Object.keys(labels)[0]!], ctx.runId);
      const { id } = await e().containers.create({ image: tag, cmd: ['cat', '/built'], labels });
      await e().containers.start(id);
      await e().containers.wait(id, { timeoutMs: 60_000 });
      assert.equal((await e().containers.logs(id)).stdout, 'built\n');
      await e().containers.remove(id);
      await e().images.remove(tag);
      await e().images.remove(tag);
      assert.equal(await e().images.inspect(tag), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a failing build as build_failed with its log', ctx.engineOnly('a build runs a real Dockerfile'), async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bosun-build-'));
    try {
      writeFileSync(join(dir, 'Dockerfile'), `FROM ${ctx.image}\nRUN echo about-to-fail && exit 7\n`);
      await assert.rejects(e().images.build({ contextDir: dir, tag: `bosun-contract-${ctx.runId}:bad` }), isCode('build_failed'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ensures a network once, connects with an alias, disconnects and removes it (twice)', async () => {
    const name = `bosun-contract-${ctx.runId}-net`;
    networks.push(name);
    const netId = await e().networks.ensure({ name, labels });
    assert.ok(netId);
    assert.equal(await e().networks.ensure({ name, labels }), netId);
    const { id } = await e().containers.create({ image: ctx.image, cmd: ['sleep', '30'], labels, stopTimeoutSec: 1, networks: [{ name }] });
    await e().containers.start(id);
    assert.ok((await e().containers.inspect(id))?.networks[name], 'attached at create');
    const other = `${name}2`;
    networks.push(other);
    await e().networks.ensure({ name: other, labels });
    await e().networks.connect(other, id, { aliases: ['svc-alias'] });
    await e().networks.connect(other, id, { aliases: ['svc-alias'] });
    const d = await e().containers.inspect(id);
    assert.ok(d?.networks[other]?.aliases.includes('svc-alias'), JSON.stringify(d?.networks));
    assert.ok(d?.networks[other]?.ipAddress, JSON.stringify(d?.networks));
    await e().networks.disconnect(other, id);
    assert.equal((await e().containers.inspect(id))?.networks[other], undefined);
    await e().containers.remove(id, { force: true });
    await e().networks.remove(other);
    await e().networks.remove(other);
    await e().networks.remove(name);
  });

  it('ensures a volume once, inspects its labels and removes it (twice)', async () => {
    const name = `bosun-contract-${ctx.runId}-vol`;
    volumes.push(name);
    assert.deepEqual(await e().volumes.ensure(name, labels), { created: true });
    assert.deepEqual(await e().volumes.ensure(name, labels), { created: false });
    const v = await e().volumes.inspect(name);
    assert.equal(v?.name, name);
    assert.deepEqual(v?.labels, labels);
    await e().volumes.remove(name);
    await e().volumes.remove(name);
    assert.equal(await e().volumes.inspect(name), undefined);
  });

  it('keeps a volume\'s data between containers', ctx.engineOnly('data is written by a real process'), async () => {
    const name = `bosun-contract-${ctx.runId}-data`;
    volumes.push(name);
    await e().volumes.ensure(name, labels);
    const mounts = [{ type: 'volume' as const, source: name, target: '/data' }];
    const w = await e().containers.create({ image: ctx.image, cmd: ['sh', '-c', 'echo kept > /data/f'], labels, mounts });
    await e().containers.start(w.id);
    assert.deepEqual(await e().containers.wait(w.id), { exitCode: 0 });
    const r = await e().containers.create({ image: ctx.image, cmd: ['cat', '/data/f'], labels, mounts });
    await e().containers.start(r.id);
    await e().containers.wait(r.id);
    assert.equal((await e().containers.logs(r.id)).stdout, 'kept\n');
    await e().containers.remove(w.id);
    await e().containers.remove(r.id);
  });

  it('streams events with exit codes and names, and resumes from a given point', async () => {
    // Reading starts from a point in time, so no event between subscribing and creating is missed.
    const first = collectEvents({ resources: ['container'], labels, sinceNano: nowNano() });
    const name = uniqueName('ev');
    const { id } = await e().containers.create({ image: ctx.image, name, cmd: ['sh', '-c', 'exit 5'], labels });
    await e().containers.start(id);
    await eventually('die event', async () => first.seen.some((ev) => ev.key === `died:${id}`));
    await first.stop();
    assert.ok(first.seen.some((ev) => ev.key === `created:${id}`), JSON.stringify(first.seen.map((ev) => ev.key)));
    assert.ok(first.seen.some((ev) => ev.key === `started:${id}`));
    const die = first.seen.find((ev) => ev.key === `died:${id}`)!;
    assert.equal(die.exitCode, 5);
    assert.equal(die.name, name);
    assert.equal(die.attributes[Object.keys(labels)[0]!], ctx.runId, 'labels are event attributes');
    const lastNano = first.seen.at(-1)!.timeNano;
    // Resuming after the last event seen replays none of them, yet the stream is live: a later
    // container's events arrive on it.
    const resumed = collectEvents({ resources: ['container'], labels, sinceNano: lastNano });
    const later = await e().containers.create({ image: ctx.image, cmd: ['true'], labels });
    await eventually('later create event on the resumed stream', async () => resumed.seen.some((ev) => ev.key === `created:${later.id}`));
    await e().containers.remove(id);
    await eventually('destroy event', async () => resumed.seen.some((ev) => ev.key === `destroyed:${id}`));
    await resumed.stop();
    assert.deepEqual(resumed.seen.filter((ev) => ev.id === id).map((ev) => ev.key), [`destroyed:${id}`], 'no event of the first container is replayed');
  });
}
