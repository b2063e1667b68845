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
import type { EventsRequest } from '../../src/ports/engine.js';
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
    for (const n of networks) await e().removeNetwork(n);
    for (const v of volumes) await e().removeVolume(v);
    for (const i of images) await e().removeImage(i, { force: true });
  });

  /** Reads the event stream in the background; only the abort from stop() ends it quietly. */
  function collectEvents(req: Omit<EventsRequest, 'signal'>) {
    const ctl = new AbortController();
    const seen: { key: string; id: string; timeNano: bigint; attributes: Record<string, string> }[] = [];
    const reading = (async () => {
      try {
        for await (const ev of e().events({ ...req, signal: ctl.signal })) seen.push({ key: `${ev.action}:${ev.id}`, id: ev.id, timeNano: ev.timeNano, attributes: ev.attributes });
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
    const img = await e().inspectImage(ctx.image);
    assert.ok(img, `${ctx.image} is present`);
    assert.ok(img.tags.includes(ctx.image), JSON.stringify(img.tags));
    assert.equal(img.labels['bosun.test'], 'true');
    assert.equal(await e().inspectImage('bosun-no-such-image:never'), undefined);
  });

  it('builds an image from a context, runs it, and removes it (twice)', ctx.engineOnly('a build runs a real Dockerfile'), async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bosun-build-'));
    const tag = `bosun-contract-${ctx.runId}:1`;
    images.push(tag);
    try {
      writeFileSync(join(dir, 'Dockerfile'), `FROM ${ctx.image}\nRUN echo built > /built\n`);
      const r = await e().buildImage({ contextDir: dir, tag, labels: { [Object.keys(labels)[0]!]: ctx.runId } });
      assert.ok(r.imageId);
      const img = await e().inspectImage(tag);
      assert.equal(img?.id, r.imageId);
      assert.ok(img?.tags.includes(tag), JSON.stringify(img?.tags));
      assert.equal(img?.labels[Object.keys(labels)[0]!], ctx.runId);
      const { id } = await e().createContainer({ image: tag, cmd: ['cat', '/built'], labels });
      await e().startContainer(id);
      await e().waitContainer(id);
      assert.equal((await e().logs(id)).stdout, 'built\n');
      await e().removeContainer(id);
      await e().removeImage(tag);
      await e().removeImage(tag);
      assert.equal(await e().inspectImage(tag), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a failing build as build_failed with its log', ctx.engineOnly('a build runs a real Dockerfile'), async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bosun-build-'));
    try {
      writeFileSync(join(dir, 'Dockerfile'), `FROM ${ctx.image}\nRUN echo about-to-fail && exit 7\n`);
      await assert.rejects(e().buildImage({ contextDir: dir, tag: `bosun-contract-${ctx.runId}:bad` }), isCode('build_failed'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ensures a network once, connects with an alias, disconnects and removes it (twice)', async () => {
    const name = `bosun-contract-${ctx.runId}-net`;
    networks.push(name);
    const netId = await e().ensureNetwork({ name, labels });
    assert.ok(netId);
    assert.equal(await e().ensureNetwork({ name, labels }), netId);
    const { id } = await e().createContainer({ image: ctx.image, cmd: ['sleep', '30'], labels, stopTimeoutSec: 1, networks: [{ name }] });
    await e().startContainer(id);
    assert.ok((await e().inspectContainer(id))?.networks[name], 'attached at create');
    const other = `${name}2`;
    networks.push(other);
    await e().ensureNetwork({ name: other, labels });
    await e().connectNetwork(other, id, { aliases: ['svc-alias'] });
    await e().connectNetwork(other, id, { aliases: ['svc-alias'] });
    const d = await e().inspectContainer(id);
    assert.ok(d?.networks[other]?.aliases.includes('svc-alias'), JSON.stringify(d?.networks));
    assert.ok(d?.networks[other]?.ipAddress, JSON.stringify(d?.networks));
    await e().disconnectNetwork(other, id);
    assert.equal((await e().inspectContainer(id))?.networks[other], undefined);
    await e().removeContainer(id, { force: true });
    await e().removeNetwork(other);
    await e().removeNetwork(other);
    await e().removeNetwork(name);
  });

  it('ensures a volume once, inspects its labels and removes it (twice)', async () => {
    const name = `bosun-contract-${ctx.runId}-vol`;
    volumes.push(name);
    assert.deepEqual(await e().ensureVolume(name, labels), { created: true });
    assert.deepEqual(await e().ensureVolume(name, labels), { created: false });
    const v = await e().inspectVolume(name);
    assert.equal(v?.name, name);
    assert.deepEqual(v?.labels, labels);
    await e().removeVolume(name);
    await e().removeVolume(name);
    assert.equal(await e().inspectVolume(name), undefined);
  });

  it('keeps a volume\'s data between containers', ctx.engineOnly('data is written by a real process'), async () => {
    const name = `bosun-contract-${ctx.runId}-data`;
    volumes.push(name);
    await e().ensureVolume(name, labels);
    const mounts = [{ type: 'volume' as const, source: name, target: '/data' }];
    const w = await e().createContainer({ image: ctx.image, cmd: ['sh', '-c', 'echo kept > /data/f'], labels, mounts });
    await e().startContainer(w.id);
    assert.deepEqual(await e().waitContainer(w.id), { exitCode: 0 });
    const r = await e().createContainer({ image: ctx.image, cmd: ['cat', '/data/f'], labels, mounts });
    await e().startContainer(r.id);
    await e().waitContainer(r.id);
    assert.equal((await e().logs(r.id)).stdout, 'kept\n');
    await e().removeContainer(w.id);
    await e().removeContainer(r.id);
  });

  it('streams events with exit codes and names, and resumes from a given point', async () => {
    // Reading starts from a point in time, so no event between subscribing and creating is missed.
    const first = collectEvents({ types: ['container'], labels, sinceNano: nowNano() });
    const name = uniqueName('ev');
    const { id } = await e().createContainer({ image: ctx.image, name, cmd: ['sh', '-c', 'exit 5'], labels });
    await e().startContainer(id);
    await eventually('die event', async () => first.seen.some((ev) => ev.key === `die:${id}`));
    await first.stop();
    assert.ok(first.seen.some((ev) => ev.key === `create:${id}`), JSON.stringify(first.seen.map((ev) => ev.key)));
    assert.ok(first.seen.some((ev) => ev.key === `start:${id}`));
    const die = first.seen.find((ev) => ev.key === `die:${id}`)!;
    assert.equal(die.attributes.exitCode, '5');
    assert.equal(die.attributes.name, name);
    assert.equal(die.attributes[Object.keys(labels)[0]!], ctx.runId, 'labels are event attributes');
    const lastNano = first.seen.at(-1)!.timeNano;
    // Resuming after the last event seen replays none of them, yet the stream is live: a later
    // container's events arrive on it.
    const resumed = collectEvents({ types: ['container'], labels, sinceNano: lastNano });
    const later = await e().createContainer({ image: ctx.image, cmd: ['true'], labels });
    await eventually('later create event on the resumed stream', async () => resumed.seen.some((ev) => ev.key === `create:${later.id}`));
    await e().removeContainer(id);
    await eventually('destroy event', async () => resumed.seen.some((ev) => ev.key === `destroy:${id}`));
    await resumed.stop();
    assert.deepEqual(resumed.seen.filter((ev) => ev.id === id).map((ev) => ev.key), [`destroy:${id}`], 'no event of the first container is replayed');
  });
}
