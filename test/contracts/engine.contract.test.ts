/**
 * ContainerEngine contract, run against the real Docker engine through DockerEngine.
 * Safe-to-repeat semantics, typed errors, log capture with bounds, in-place update, events.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LABEL } from '../../src/domain/labels.js';
import { isBosunError } from '../../src/domain/errors.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine, uniqueName } from '../helpers/docker.js';

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
    const { id } = await engine.createContainer({ image: TEST_IMAGE, name: uniqueName('c-out'), cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'], labels });
    await engine.startContainer(id);
    const { exitCode } = await engine.waitContainer(id);
    assert.equal(exitCode, 3);
    const out = await engine.logs(id);
    assert.equal(out.stdout, 'out\n');
    assert.equal(out.stderr, 'err\n');
    assert.equal(out.truncated, false);
  });

  it('bounds captured output and marks truncation', async () => {
    const { id } = await engine.createContainer({ image: TEST_IMAGE, cmd: ['sh', '-c', 'yes x | head -c 5000'], labels });
    await engine.startContainer(id);
    await engine.waitContainer(id);
    const out = await engine.logs(id, { limitBytes: 100 });
    assert.equal(out.stdout.length, 100);
    assert.equal(out.stdoutBytes, 5000);
    assert.equal(out.truncated, true);
  });

  it('treats stop of a stopped container and remove of a missing one as done', async () => {
    const { id } = await engine.createContainer({ image: TEST_IMAGE, cmd: ['true'], labels });
    await engine.stopContainer(id);
    await engine.stopContainer(id);
    await engine.removeContainer(id);
    await engine.removeContainer(id);
    assert.equal(await engine.inspectContainer(id), undefined);
  });

  it('reports a missing image as image_not_found', async () => {
    await assert.rejects(engine.createContainer({ image: 'bosun-no-such-image:never', labels }), (e: unknown) => isBosunError(e) && e.code === 'image_not_found');
  });

  it('reports a name clash as conflict', async () => {
    const name = uniqueName('dup');
    await engine.createContainer({ image: TEST_IMAGE, name, cmd: ['true'], labels });
    await assert.rejects(engine.createContainer({ image: TEST_IMAGE, name, cmd: ['true'], labels }), (e: unknown) => isBosunError(e) && e.code === 'conflict');
  });

  it('updates limits in place: same id, new limit', async () => {
    const { id } = await engine.createContainer({
      image: TEST_IMAGE, cmd: ['sleep', '60'], labels, resources: { memory: 64 * 1024 * 1024 }, stopTimeoutSec: 1,
    });
    await engine.startContainer(id);
    await engine.updateContainer(id, { resources: { memory: 96 * 1024 * 1024, memorySwap: -1 }, restartPolicy: { name: 'on-failure', maximumRetryCount: 5 } });
    const d = await engine.inspectContainer(id);
    assert.equal(d?.id, id);
    assert.equal(d?.resources.memory, 96 * 1024 * 1024);
    assert.deepEqual(d?.restartPolicy, { name: 'on-failure', maximumRetryCount: 5 });
    await engine.removeContainer(id, { force: true });
  });

  it('lists by label and inspects what it created', async () => {
    const name = uniqueName('inspect');
    const { id } = await engine.createContainer({
      image: TEST_IMAGE, name, cmd: ['sleep', '1'], env: ['A=1'], labels: { ...labels, extra: 'yes' },
      portBindings: [{ containerPort: '80/tcp', hostIp: '127.0.0.1', hostPort: '' }],
      mounts: [{ type: 'bind', source: '/tmp', target: '/host-tmp', readOnly: true }],
    });
    const list = await engine.listContainers({ labels: { [LABEL.test]: runId, extra: 'yes' } });
    assert.deepEqual(list.map((c) => c.id), [id]);
    const d = await engine.inspectContainer(name);
    assert.ok(d);
    assert.equal(d.name, name);
    assert.ok(d.env.includes('A=1'));
    assert.deepEqual(d.exposedPorts, ['80/tcp']);
    assert.deepEqual(d.mounts, [{ type: 'bind', source: '/tmp', target: '/host-tmp', readOnly: true }]);
  });

  it('execs in a running container and lists its processes', async () => {
    const { id } = await engine.createContainer({ image: TEST_IMAGE, cmd: ['sleep', '30'], labels, stopTimeoutSec: 1 });
    await engine.startContainer(id);
    const r = await engine.exec(id, { cmd: ['sh', '-c', 'echo hi; exit 4'] });
    assert.equal(r.exitCode, 4);
    assert.equal(r.output.stdout, 'hi\n');
    const bg = await engine.exec(id, { cmd: ['sh', '-c', 'echo detached > /bg'], detach: true });
    assert.equal(bg.exitCode, undefined);
    await eventually('detached exec ran', async () => (await engine.exec(id, { cmd: ['cat', '/bg'] })).output.stdout === 'detached\n');
    const procs = await engine.top(id);
    assert.ok(procs.some((p) => p.command.includes('sleep 30')), JSON.stringify(procs));
    await engine.removeContainer(id, { force: true });
  });

  it('streams events and resumes from a given point', async () => {
    const ctl = new AbortController();
    const seen: string[] = [];
    let lastNano = 0n;
    const reading = (async () => {
      try {
        for await (const ev of engine.events({ types: ['container'], labels: { [LABEL.test]: runId }, signal: ctl.signal })) {
          seen.push(`${ev.action}:${ev.id}`);
          lastNano = ev.timeNano;
        }
      } catch {
        /* aborted */
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    const { id } = await engine.createContainer({ image: TEST_IMAGE, cmd: ['true'], labels });
    await engine.startContainer(id);
    await eventually('die event', async () => seen.includes(`die:${id}`));
    ctl.abort();
    await reading;
    assert.ok(seen.includes(`create:${id}`));
    // resuming after the last event seen replays nothing already seen
    const replay = new AbortController();
    const again: string[] = [];
    setTimeout(() => replay.abort(), 500);
    try {
      for await (const ev of engine.events({ sinceNano: lastNano, labels: { [LABEL.test]: runId }, signal: replay.signal })) again.push(ev.action);
    } catch {
      /* aborted */
    }
    assert.deepEqual(again, []);
  });
});
