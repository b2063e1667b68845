/** stream: true and stdin through runAction on the in-memory engine: chunks before the envelope, stdin read by cat, the refusals. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildRegistry } from '../../../src/actions/registry.js';
import { STDIN_MAX_BYTES } from '../../../src/actions/schemas/run.js';
import { DEFAULT_POLICY } from '../../../src/domain/policy.js';
import type { FakeEngine } from '../../../src/adapters/engine-fake/index.js';
import type { RunResult } from '../../../src/pipeline/context.js';
import { RunQuotas } from '../../../src/pipeline/quotas.js';
import { runAction } from '../../../src/pipeline/run-action.js';
import type { PublishOptions } from '../../../src/ports/transport.js';
import { silentLogger } from '../../../src/util/log.js';
import { FAKE_IMAGE, fakeEngine } from '../../helpers/fake-engine.js';

function setup(engine: FakeEngine) {
  const published: { channel: string; body: Record<string, unknown>; opts: PublishOptions }[] = [];
  let t = 1_000;
  const clock = { now: () => (t += 5) };
  const ctx = {
    registry: buildRegistry({ monitors: { add: async () => undefined } }), engine, policy: DEFAULT_POLICY, clock, log: silentLogger,
    quotas: new RunQuotas(engine, clock.now),
    publish: async (channel: string, body: string, opts: PublishOptions) => void published.push({ channel, body: JSON.parse(body) as Record<string, unknown>, opts }),
    signal: new AbortController().signal,
  };
  return { ctx, published };
}

const envelope = (r: RunResult) => r.envelope as unknown as Record<string, unknown> & { error?: { code: string; field?: string } };

describe('stream and stdin on the fake engine', () => {
  it('stream: true publishes the output as chunks on the reply path before the envelope, which counts them', async () => {
    const { ctx, published } = setup(fakeEngine());
    const r = await runAction('start_container.response_channel', {
      request_id: 'io-1', image: FAKE_IMAGE, command: ['sh', '-c', 'echo out; echo err >&2'], response_channel: 'out', stream: true,
    }, ctx);
    const env = envelope(r);
    assert.equal(env.ok, true);
    const chunks = published.map((p) => p.body);
    assert.deepEqual(chunks.map((c) => [c.stream, c.data]).sort(), [['stderr', 'err\n'], ['stdout', 'out\n']]);
    assert.deepEqual(chunks.map((c) => c.seq), [0, 1]);
    assert.ok(chunks.every((c) => c.request_id === 'io-1'));
    assert.deepEqual(published.map((p) => [p.channel, p.opts.messageId]), [['out', 'io-1:progress:0'], ['out', 'io-1:progress:1']]);
    assert.deepEqual(env.streamed, { chunks: 2, bytes: 8, truncated: false });
    assert.equal(env.stdout, 'out\n', 'the envelope still carries the output');
  });

  it('without stream nothing is published before the envelope, and the envelope has no streamed field', async () => {
    const { ctx, published } = setup(fakeEngine());
    const r = await runAction('start_container.response_channel', { image: FAKE_IMAGE, command: ['echo', 'hi'], response_channel: 'out' }, ctx);
    assert.equal(envelope(r).stdout, 'hi\n');
    assert.equal(published.length, 0);
    assert.equal(envelope(r).streamed, undefined);
  });

  it('stdin is written to the container, which reads it to EOF (cold and by dispatch)', async () => {
    const { ctx } = setup(fakeEngine());
    const r = await runAction('start_container.response_channel', { image: FAKE_IMAGE, command: ['sh', '-c', 'cat; echo end'], response_channel: 'out', stdin: 'line 1\nline 2\n' }, ctx);
    assert.equal(envelope(r).exit_code, 0);
    assert.equal(envelope(r).stdout, 'line 1\nline 2\nend\n');
    const d = await runAction('dispatch', { Dockercmd: 'run', Image: FAKE_IMAGE, Cmd: ['cat'], Stdin: 'via dispatch', Options: { Attach: ['STDOUT'], Remove: true }, response_channel: 'out' }, ctx);
    assert.equal(envelope(d).stdout, 'via dispatch');
  });

  it('refuses, naming the field: stream with a raw reply, stdin over its size, stream or stdin on a detached dispatch run', async () => {
    const { ctx, published } = setup(fakeEngine());
    const cases: [string, Record<string, unknown>, string][] = [
      ['start_container.response_channel', { image: FAKE_IMAGE, command: ['true'], response_channel: 'out', response_format: 'raw', stream: true }, 'stream'],
      ['start_container.response_channel', { image: FAKE_IMAGE, command: ['cat'], response_channel: 'out', stdin: 'x'.repeat(STDIN_MAX_BYTES + 1) }, 'stdin'],
      ['start_container.create', { image: FAKE_IMAGE, command: ['cat'], stdin: 'x' }, 'stdin'],
      ['dispatch', { Dockercmd: 'run', Image: FAKE_IMAGE, Cmd: ['true'], Stream: true, response_channel: 'out' }, 'stream'],
      ['dispatch', { Dockercmd: 'run', Image: FAKE_IMAGE, Cmd: ['cat'], Stdin: 'x', response_channel: 'out' }, 'stdin'],
    ];
    for (const [channel, body, field] of cases) {
      const r = await runAction(channel, body, ctx);
      const env = envelope(r);
      assert.equal(env.ok, false, JSON.stringify(body).slice(0, 80));
      assert.equal(env.error?.code, 'invalid_message');
      assert.ok(env.error?.field === field || JSON.stringify(env.error).includes(field), JSON.stringify(env.error));
      assert.equal(r.settle.kind, 'park', 'refused messages go to the errors queue');
    }
    assert.equal(published.length, 0);
  });
});
