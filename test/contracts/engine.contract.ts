/**
 * Reusable ContainerEngine contract (no adapter specifics). Run it from an engine's test file:
 *
 *   engineContract('podman', () => new DockerEngine({ host: PODMAN_HOST }));
 *
 * Safe-to-repeat semantics, typed errors, log capture with bounds, in-place update, exec,
 * images, networks, volumes, events. Everything it creates carries LABEL.test=<run id> (or a
 * name with the run id) and is removed at the end. A test marked `engineOnly` needs a real
 * engine (real processes, a real build); an engine with `real: false` skips it and says why.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LABEL } from '../../src/domain/labels.js';
import { isBosunError } from '../../src/domain/errors.js';
import type { ContainerEngine } from '../../src/ports/engine.js';
import { TEST_IMAGE, eventually, newRunId, uniqueName, within } from '../helpers/docker.js';
import { resourceContract } from './engine-resources.contract.js';
import { ioContract } from './engine-io.contract.js';

export interface EngineContractOptions {
  /** false for an engine that runs no real processes: tests marked engineOnly are skipped. */
  real?: boolean;
  /** The image every test runs (default TEST_IMAGE, the FROM-scratch busybox). */
  image?: string;
  /** false for an engine that refuses in-place updates (Podman 4.3): the refusal is what is tested. */
  inPlaceUpdate?: boolean;
}

export interface ContractContext {
  engine: ContainerEngine;
  runId: string;
  labels: Record<string, string>;
  image: string;
  /** `{ skip: reason }` on an engine that is not real, for node:test's options argument. */
  engineOnly(reason: string): { skip?: string };
  inPlaceUpdate: boolean;
}

const isCode = (code: string) => (e: unknown) => isBosunError(e) && e.code === code;

export function engineContract(name: string, makeEngine: () => ContainerEngine | Promise<ContainerEngine>, opts: EngineContractOptions = {}): void {
  const runId = newRunId();
  const ctx: ContractContext = {
    engine: undefined as unknown as ContainerEngine,
    runId,
    labels: { [LABEL.test]: runId },
    image: opts.image ?? TEST_IMAGE,
    inPlaceUpdate: opts.inPlaceUpdate ?? true,
    engineOnly: (reason) => (opts.real === false ? { skip: `engine-only: ${reason}` } : {}),
  };

  describe(`ContainerEngine contract (${name})`, () => {
    before(async () => {
      ctx.engine = await makeEngine();
      await ctx.engine.info();
    });
    after(async () => {
      const list = await ctx.engine.containers.list({ all: true, labels: ctx.labels });
      await Promise.all(list.map((c) => ctx.engine.containers.remove(c.id, { force: true, volumes: true })));
    });
    containerContract(ctx);
    resourceContract(ctx);
    ioContract(ctx);
  });
}

function containerContract(ctx: ContractContext): void {
  const { labels } = ctx;
  const e = () => ctx.engine;

  it('reports its identity', async () => {
    const info = await e().info();
    assert.ok(info.serverVersion, JSON.stringify(info));
    assert.match(info.apiVersion, /^\d+\.\d+/);
    assert.ok(info.cpus > 0 && info.memoryBytes > 0, JSON.stringify(info));
  });

  it('runs a container and captures stdout and stderr separately', async () => {
    const { id } = await e().containers.create({ image: ctx.image, name: uniqueName('c-out'), cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'], labels });
    await e().containers.start(id);
    assert.deepEqual(await e().containers.wait(id, { timeoutMs: 60_000 }), { exitCode: 3 });
    const out = await e().containers.logs(id);
    assert.equal(out.stdout, 'out\n');
    assert.equal(out.stderr, 'err\n');
    assert.equal(out.truncated, false);
    const d = await e().containers.inspect(id);
    assert.equal(d?.state.status, 'exited');
    assert.equal(d?.state.exitCode, 3);
    assert.equal(d?.state.running, false);
  });

  it('bounds captured output and marks truncation', async () => {
    const { id } = await e().containers.create({ image: ctx.image, cmd: ['sh', '-c', 'yes x | head -c 5000'], labels });
    await e().containers.start(id);
    await e().containers.wait(id, { timeoutMs: 60_000 });
    const out = await e().containers.logs(id, { limitBytes: 100 });
    assert.equal(out.stdout.length, 100);
    assert.equal(out.stdoutBytes, 5000);
    assert.equal(out.truncated, true);
  });

  it('attaches before start and sees all output', async () => {
    const { id } = await e().containers.create({ image: ctx.image, cmd: ['sh', '-c', 'echo one; echo two >&2'], labels });
    const { output } = await e().containers.attach(id);
    await e().containers.start(id);
    const out = await within(output, 60_000, 'attached output');
    assert.equal(out.stdout, 'one\n');
    assert.equal(out.stderr, 'two\n');
    assert.deepEqual(await e().containers.wait(id, { timeoutMs: 60_000 }), { exitCode: 0 });
  });

  it('treats start of a running, stop of a stopped and remove of a missing container as done', async () => {
    const { id } = await e().containers.create({ image: ctx.image, cmd: ['sleep', '30'], labels, stopTimeoutSec: 1 });
    await e().containers.start(id);
    await e().containers.start(id);
    await e().containers.stop(id, { timeoutSec: 1 });
    await e().containers.stop(id);
    await e().containers.kill(id);
    await e().containers.remove(id);
    await e().containers.remove(id);
    assert.equal(await e().containers.inspect(id), undefined);
  });

  it('kills with a signal and restarts in place', async () => {
    const { id } = await e().containers.create({ image: ctx.image, cmd: ['sleep', '30'], labels, stopTimeoutSec: 1 });
    await e().containers.start(id);
    await e().containers.kill(id, 'SIGKILL');
    const { exitCode } = await e().containers.wait(id, { timeoutMs: 60_000 });
    assert.equal(exitCode, 137);
    await e().containers.restart(id, { timeoutSec: 1 });
    const d = await e().containers.inspect(id);
    assert.equal(d?.state.running, true);
    await e().containers.remove(id, { force: true });
  });

  it('reports a missing image as image_not_found', async () => {
    await assert.rejects(e().containers.create({ image: 'bosun-no-such-image:never', labels }), isCode('image_not_found'));
  });

  it('reports a name clash as conflict', async () => {
    const name = uniqueName('dup');
    await e().containers.create({ image: ctx.image, name, cmd: ['true'], labels });
    await assert.rejects(e().containers.create({ image: ctx.image, name, cmd: ['true'], labels }), isCode('conflict'));
  });

  it('reports a missing container as not_found on start', async () => {
    await assert.rejects(e().containers.start(uniqueName('missing')), isCode('not_found'));
  });

  it('renames a container', async () => {
    const { id } = await e().containers.create({ image: ctx.image, name: uniqueName('old'), cmd: ['true'], labels });
    const to = uniqueName('new');
    await e().containers.rename(id, to);
    assert.equal((await e().containers.inspect(to))?.id, id);
  });

  it('updates limits in place: same id, new limit (or refuses, where the engine cannot)', async () => {
    const { id } = await e().containers.create({
      image: ctx.image, cmd: ['sleep', '60'], labels, resources: { memory: 64 * 1024 * 1024 }, stopTimeoutSec: 1,
    });
    await e().containers.start(id);
    assert.deepEqual(await e().capabilities(), { inPlaceUpdate: ctx.inPlaceUpdate }, 'the engine says whether it can');
    assert.deepEqual((await e().info()).capabilities, { inPlaceUpdate: ctx.inPlaceUpdate });
    const update = e().containers.update(id, { resources: { memory: 96 * 1024 * 1024, memorySwap: -1 }, restartPolicy: { name: 'on-failure', maximumRetryCount: 5 } });
    if (!ctx.inPlaceUpdate) {
      await assert.rejects(update, (err: unknown) => isBosunError(err) && err.code === 'engine_error' && (err.details as { unsupported?: string } | undefined)?.unsupported === 'update');
      const d = await e().containers.inspect(id);
      assert.equal(d?.resources.memory, 64 * 1024 * 1024, 'nothing half done');
      return;
    }
    await update;
    const d = await e().containers.inspect(id);
    assert.equal(d?.id, id);
    assert.equal(d?.resources.memory, 96 * 1024 * 1024);
    assert.deepEqual(d?.restartPolicy, { name: 'on-failure', maximumRetryCount: 5 });
    await e().containers.remove(id, { force: true });
  });

  it('lists by label and inspects what it created', async () => {
    const name = uniqueName('inspect');
    const { id } = await e().containers.create({
      image: ctx.image, name, cmd: ['sleep', '1'], env: ['A=1'], labels: { ...labels, extra: 'yes' },
      portBindings: [{ containerPort: '80/tcp', hostIp: '127.0.0.1', hostPort: '' }],
      mounts: [{ type: 'bind', source: '/tmp', target: '/host-tmp', readOnly: true }],
    });
    const list = await e().containers.list({ labels: { [LABEL.test]: ctx.runId, extra: 'yes' } });
    assert.deepEqual(list.map((c) => c.id), [id]);
    assert.equal(list[0]?.name, name);
    assert.equal(list[0]?.status, 'created');
    assert.equal(list[0]?.labels.extra, 'yes');
    const d = await e().containers.inspect(name);
    assert.ok(d);
    assert.equal(d.id, id);
    assert.equal(d.name, name);
    assert.equal(d.labels.extra, 'yes');
    assert.deepEqual(d.cmd, ['sleep', '1']);
    assert.ok(d.env.includes('A=1'));
    assert.deepEqual(d.exposedPorts, ['80/tcp']);
    assert.deepEqual(d.mounts, [{ type: 'bind', source: '/tmp', target: '/host-tmp', readOnly: true }]);
    const byName = await e().containers.list({ name, labels });
    assert.deepEqual(byName.map((c) => c.id), [id]);
    // The name filter is a pattern found anywhere in the name (callers that mean a prefix check it themselves).
    const byPart = await e().containers.list({ name: name.slice(3), labels });
    assert.deepEqual(byPart.map((c) => c.id), [id]);
  });

  it('lists by status', async () => {
    const { id } = await e().containers.create({ image: ctx.image, cmd: ['sleep', '30'], labels, stopTimeoutSec: 1 });
    await e().containers.start(id);
    const running = await e().containers.list({ labels, status: ['running'] });
    assert.ok(running.some((c) => c.id === id && c.status === 'running'), JSON.stringify(running));
    const exited = await e().containers.list({ labels, status: ['exited'] });
    assert.ok(!exited.some((c) => c.id === id));
    await e().containers.remove(id, { force: true });
  });

  it('execs in a running container and lists its processes', ctx.engineOnly('exec and top need real processes'), async () => {
    const { id } = await e().containers.create({ image: ctx.image, cmd: ['sleep', '30'], labels, stopTimeoutSec: 1 });
    await e().containers.start(id);
    const r = await e().exec.run(id, { cmd: ['sh', '-c', 'echo hi; exit 4'] });
    assert.equal(r.exitCode, 4);
    assert.equal(r.output.stdout, 'hi\n');
    const bg = await e().exec.run(id, { cmd: ['sh', '-c', 'echo detached > /bg'], detach: true });
    assert.equal(bg.exitCode, undefined);
    await eventually('detached exec ran', async () => (await e().exec.run(id, { cmd: ['cat', '/bg'] })).output.stdout === 'detached\n');
    const procs = await e().containers.top(id);
    assert.ok(procs.some((p) => p.command.includes('sleep 30')), JSON.stringify(procs));
    await e().containers.remove(id, { force: true });
  });

  it('starts a prepared exec once, and with stdin exactly when it was made to take it', async () => {
    const { id } = await e().containers.create({ image: ctx.image, cmd: ['sleep', '30'], labels, stopTimeoutSec: 0 });
    await e().containers.start(id);
    const once = await e().exec.prepare(id, { cmd: ['echo', 'once'] });
    assert.equal((await e().exec.run(id, { cmd: ['echo', 'once'], prepared: once })).output.stdout, 'once\n');
    await assert.rejects(e().exec.run(id, { cmd: ['echo', 'once'], prepared: once }), /starts once/);
    const takesStdin = await e().exec.prepare(id, { cmd: ['echo', 'in'], stdin: '' });
    await assert.rejects(e().exec.run(id, { cmd: ['echo', 'in'], prepared: takesStdin }), /made with stdin and started without/);
    const noStdin = await e().exec.prepare(id, { cmd: ['echo', 'in'] });
    await assert.rejects(e().exec.run(id, { cmd: ['echo', 'in'], prepared: noStdin, stdin: 'x' }), /made without stdin and started with/);
    await e().containers.remove(id, { force: true });
  });

  it('prepares an exec that runs nothing until it is started, then runs what it was made with', ctx.engineOnly('exec needs real processes'), async () => {
    const { id } = await e().containers.create({ image: ctx.image, cmd: ['sleep', '30'], labels, stopTimeoutSec: 0 });
    await e().containers.start(id);
    const prepared = await e().exec.prepare(id, { cmd: ['sh', '-c', 'echo made > /prepared; cat; exit 3'], stdin: '' });
    assert.equal((await e().exec.run(id, { cmd: ['cat', '/prepared'] })).exitCode, 1, 'made, not started: its command has not run');
    const r = await e().exec.run(id, { cmd: ['echo', 'not this one'], prepared, stdin: 'fed\n', timeoutMs: 60_000 });
    assert.equal(r.exitCode, 3);
    assert.equal(r.output.stdout, 'fed\n', 'the prepared command, with the stdin written at its start');
    assert.equal((await e().exec.run(id, { cmd: ['cat', '/prepared'] })).output.stdout, 'made\n');
    await e().containers.kill(id);
    await e().containers.wait(id, { timeoutMs: 60_000 });
    await assert.rejects(e().exec.prepare(id, { cmd: ['true'] }), isCode('conflict'), 'refused, as run is, when the container does not run');
    await e().containers.remove(id, { force: true });
  });
}
