/**
 * ContainerEngine contract, run against the real Docker engine through DockerEngine.
 * Safe-to-repeat semantics, typed errors, log capture with bounds, in-place update, events.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LABEL } from '../../src/domain/labels.js';
import { isBosunError } from '../../src/domain/errors.js';
import type { EventsRequest } from '../../src/domain/engine/index.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine, uniqueName } from '../helpers/docker.js';

/** Reads the engine's event stream in the background; only the abort from stop() ends it quietly. */
function collectEvents(req: Omit<EventsRequest, 'signal'>) {
  const ctl = new AbortController();
  const seen: { key: string; id: string; timeNano: bigint }[] = [];
  const reading = (async () => {
    try {
      for await (const ev of engine.events.stream({ ...req, signal: ctl.signal })) seen.push({ key: `${ev.kind}:${ev.id}`, id: ev.id, timeNano: ev.timeNano });
    } catch (e) {
      if (!ctl.signal.aborted) throw e;
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

function nowNano(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

const engine = testEngine();
const runId = newRunId();
const labels = { [LABEL.test]: runId };

describe('ContainerEngine contract (docker)', () => {
  before(async () => {
    await engine.info();
  });
  after(async () => {
    await removeTestContainers(engine, runId);
  });

  it('runs a container and captures stdout and stderr separately', async () => {
    const { id } = await engine.containers.create({ image: TEST_IMAGE, name: uniqueName('c-out'), cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'], labels });
    await engine.containers.start(id);
    const { exitCode } = await engine.containers.wait(id);
    assert.equal(exitCode, 3);
    const out = await engine.containers.logs(id);
    assert.equal(out.stdout, 'out\n');
    assert.equal(out.stderr, 'err\n');
    assert.equal(out.truncated, false);
  });

  it('bounds captured output and marks truncation', async () => {
    const { id } = await engine.containers.create({ image: TEST_IMAGE, cmd: ['sh', '-c', 'yes x | head -c 5000'], labels });
    await engine.containers.start(id);
    await engine.containers.wait(id);
    const out = await engine.containers.logs(id, { limitBytes: 100 });
    assert.equal(out.stdout.length, 100);
    assert.equal(out.stdoutBytes, 5000);
    assert.equal(out.truncated, true);
  });

  it('treats stop of a stopped container and remove of a missing one as done', async () => {
    const { id } = await engine.containers.create({ image: TEST_IMAGE, cmd: ['true'], labels });
    await engine.containers.stop(id);
    await engine.containers.stop(id);
    await engine.containers.remove(id);
    await engine.containers.remove(id);
    assert.equal(await engine.containers.inspect(id), undefined);
  });

  it('reports a missing image as image_not_found', async () => {
    await assert.rejects(engine.containers.create({ image: 'bosun-no-such-image:never', labels }), (e: unknown) => isBosunError(e) && e.code === 'image_not_found');
  });

  it('reports a name clash as conflict', async () => {
    const name = uniqueName('dup');
    await engine.containers.create({ image: TEST_IMAGE, name, cmd: ['true'], labels });
    await assert.rejects(engine.containers.create({ image: TEST_IMAGE, name, cmd: ['true'], labels }), (e: unknown) => isBosunError(e) && e.code === 'conflict');
  });

  it('updates limits in place: same id, new limit', async () => {
    const { id } = await engine.containers.create({
      image: TEST_IMAGE, cmd: ['sleep', '60'], labels, resources: { memory: 64 * 1024 * 1024 }, stopTimeoutSec: 1,
    });
    await engine.containers.start(id);
    await engine.containers.update(id, { resources: { memory: 96 * 1024 * 1024, memorySwap: -1 }, restartPolicy: { name: 'on-failure', maximumRetryCount: 5 } });
    const d = await engine.containers.inspect(id);
    assert.equal(d?.id, id);
    assert.equal(d?.resources.memory, 96 * 1024 * 1024);
    assert.deepEqual(d?.restartPolicy, { name: 'on-failure', maximumRetryCount: 5 });
    await engine.containers.remove(id, { force: true });
  });

  it('lists by label and inspects what it created', async () => {
    const name = uniqueName('inspect');
    const { id } = await engine.containers.create({
      image: TEST_IMAGE, name, cmd: ['sleep', '1'], env: ['A=1'], labels: { ...labels, extra: 'yes' },
      portBindings: [{ containerPort: '80/tcp', hostIp: '127.0.0.1', hostPort: '' }],
      mounts: [{ type: 'bind', source: '/tmp', target: '/host-tmp', readOnly: true }],
    });
    const list = await engine.containers.list({ labels: { [LABEL.test]: runId, extra: 'yes' } });
    assert.deepEqual(list.map((c) => c.id), [id]);
    const d = await engine.containers.inspect(name);
    assert.ok(d);
    assert.equal(d.name, name);
    assert.ok(d.env.includes('A=1'));
    assert.deepEqual(d.exposedPorts, ['80/tcp']);
    assert.deepEqual(d.mounts, [{ type: 'bind', source: '/tmp', target: '/host-tmp', readOnly: true }]);
  });

  it('execs in a running container and lists its processes', async () => {
    const { id } = await engine.containers.create({ image: TEST_IMAGE, cmd: ['sleep', '30'], labels, stopTimeoutSec: 1 });
    await engine.containers.start(id);
    const r = await engine.exec.run(id, { cmd: ['sh', '-c', 'echo hi; exit 4'] });
    assert.equal(r.exitCode, 4);
    assert.equal(r.output.stdout, 'hi\n');
    const bg = await engine.exec.run(id, { cmd: ['sh', '-c', 'echo detached > /bg'], detach: true });
    assert.equal(bg.exitCode, undefined);
    await eventually('detached exec ran', async () => (await engine.exec.run(id, { cmd: ['cat', '/bg'] })).output.stdout === 'detached\n');
    const procs = await engine.containers.top(id);
    assert.ok(procs.some((p) => p.command.includes('sleep 30')), JSON.stringify(procs));
    await engine.containers.remove(id, { force: true });
  });

  it('streams events and resumes from a given point', async () => {
    // Reading starts from a point in time, so no event between subscribing and creating is missed.
    const since = nowNano();
    const first = collectEvents({ resources: ['container'], labels: { [LABEL.test]: runId }, sinceNano: since });
    const { id } = await engine.containers.create({ image: TEST_IMAGE, cmd: ['true'], labels });
    await engine.containers.start(id);
    await eventually('die event', async () => first.seen.some((e) => e.key === `died:${id}`));
    await first.stop();
    assert.ok(first.seen.some((e) => e.key === `created:${id}`));
    const lastNano = first.seen.at(-1)!.timeNano;
    // Resuming after the last event seen replays none of them, yet the stream is live: a later
    // container's events arrive on it.
    const resumed = collectEvents({ resources: ['container'], labels: { [LABEL.test]: runId }, sinceNano: lastNano });
    const later = await engine.containers.create({ image: TEST_IMAGE, cmd: ['true'], labels });
    await eventually('later create event on the resumed stream', async () => resumed.seen.some((e) => e.key === `created:${later.id}`));
    await resumed.stop();
    assert.deepEqual(resumed.seen.filter((e) => e.id === id).map((e) => e.key), [], 'no event of the first container is replayed');
  });
});
