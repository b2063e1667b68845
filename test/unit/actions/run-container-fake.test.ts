/** The run_container path through runAction on the in-memory engine: exit code, output, labels, images. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildRegistry } from '../../../src/actions/registry.js';
import { LABEL } from '../../../src/domain/labels.js';
import { DEFAULT_POLICY } from '../../../src/domain/policy.js';
import type { FakeEngine } from '../../../src/adapters/engine-fake/index.js';
import type { RunResult } from '../../../src/pipeline/context.js';
import { RunQuotas } from '../../../src/pipeline/quotas.js';
import { runAction } from '../../../src/pipeline/run-action.js';
import type { PublishOptions } from '../../../src/ports/transport.js';
import { silentLogger } from '../../../src/util/log.js';
import { FAKE_IMAGE, fakeEngine } from '../../helpers/fake-engine.js';

function setup(engine: FakeEngine) {
  const published: { channel: string; body: string; opts: PublishOptions }[] = [];
  let t = 1_000;
  const clock = { now: () => (t += 5) };
  const ctx = {
    registry: buildRegistry({ monitors: { add: async () => undefined } }),
    engine,
    policy: DEFAULT_POLICY,
    clock,
    log: silentLogger,
    quotas: new RunQuotas(engine, clock.now),
    publish: async (channel: string, body: string, opts: PublishOptions) => void published.push({ channel, body, opts }),
    signal: new AbortController().signal,
  };
  return { ctx, published };
}

type Reply = { stdout?: string; stderr?: string; exit_code?: number; container?: { id: string; name: string } };
const reply = (r: RunResult) => r.envelope as unknown as Reply & { ok: boolean; error?: { code: string } };

describe('run_container on the fake engine', () => {
  it('an attached run reports exit code and both streams, and its container carries bosun\'s labels', async () => {
    const engine = fakeEngine();
    const { ctx, published } = setup(engine);
    const r = await runAction('start_container.response_channel', {
      request_id: 'run-1', image: FAKE_IMAGE, command: ['sh', '-c', 'echo hi; echo oops >&2; exit 3'], response_channel: 'out', remove: false,
    }, ctx);
    const env = reply(r);
    assert.equal(env.exit_code, 3);
    assert.equal(env.stdout, 'hi\n');
    assert.equal(env.stderr, 'oops\n');
    assert.equal(env.ok, false);
    assert.equal(env.error?.code, 'nonzero_exit');
    const settle = r.settle.kind === 'reply' ? r.settle.replies : [];
    assert.deepEqual(settle.map((x) => x.channel), ['out']);
    assert.equal(published.length, 0, 'runAction hands replies back, it does not publish them');
    const c = await engine.containers.inspect(env.container!.id);
    assert.ok(c, 'kept (remove: false)');
    assert.equal(c.labels[LABEL.managed], 'true');
    assert.equal(c.labels[LABEL.request], 'run-1');
    assert.equal(c.labels[LABEL.run], 'attached');
    assert.equal(c.state.exitCode, 3);
  });

  it('the behaviour hook decides what the container does; a zero exit is ok', async () => {
    const engine = fakeEngine([], { behaviour: (spec) => ({ exitCode: 0, stdout: `${spec.env?.find((e) => e.startsWith('GREETING=')) ?? 'none'}\n` }) });
    const r = await runAction('start_container.response_channel', {
      image: FAKE_IMAGE, command: 'python hello.py', environment: { GREETING: 'hello' }, response_channel: 'out',
    }, setup(engine).ctx);
    assert.equal(reply(r).ok, true);
    assert.equal(reply(r).stdout, 'GREETING=hello\n');
    assert.equal(reply(r).exit_code, 0);
  });

  it('a redelivered request finds the container it made instead of making a second one', async () => {
    const engine = fakeEngine();
    const body = { request_id: 'det-1', image: FAKE_IMAGE, command: ['sleep', 'infinity'] };
    const first = await runAction('start_container.create', body, setup(engine).ctx);
    const id = reply(first).container!.id;
    assert.equal((await engine.containers.inspect(id))?.state.running, true);
    assert.equal((await engine.containers.inspect(id))?.labels[LABEL.run], 'detached');
    await engine.containers.stop(id);
    const again = await runAction('start_container.create', body, { ...setup(engine).ctx, message: { redelivered: true } });
    assert.equal(reply(again).container!.id, id);
    assert.equal((await engine.containers.list({ labels: { [LABEL.request]: 'det-1' } })).length, 1);
    assert.equal((await engine.containers.inspect(id))?.state.running, true, 'started again');
    await engine.containers.remove(id, { force: true });
  });

  it('refuses to run under the name of a container bosun did not make', async () => {
    const engine = fakeEngine([{ id: 'c-theirs', name: 'theirs' }]);
    const r = await runAction('start_container.create', { image: FAKE_IMAGE, name: 'theirs' }, setup(engine).ctx);
    assert.equal(reply(r).error?.code, 'policy_denied');
    assert.equal((await engine.containers.list({ all: true })).length, 1, 'nothing made');
  });

  it('pulls a missing image the registry has, and reports one it lacks as image_not_found', async () => {
    const engine = fakeEngine([], { registry: ['example/tool:2'] });
    const ok = await runAction('start_container.response_channel', { image: 'example/tool:2', command: ['echo', 'pulled'], response_channel: 'out' }, setup(engine).ctx);
    assert.equal(reply(ok).stdout, 'pulled\n');
    assert.ok(await engine.images.inspect('example/tool:2'));
    const missing = await runAction('start_container.response_channel', { image: 'example/none:1', command: ['true'], response_channel: 'out' }, setup(engine).ctx);
    assert.equal(reply(missing).error?.code, 'image_not_found');
  });
});
