/**
 * The engine contract's live-output and stdin cases: output handed over piece by piece while
 * the process still runs (attach, logs follow, exec), and stdin written then closed (attach
 * before start, exec). Called by engineContract inside its describe block.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { OutputChunk } from '../../src/domain/engine/index.js';
import { eventually, within } from '../helpers/docker.js';
import type { ContractContext } from './engine.contract.js';

function collector() {
  const seen: OutputChunk[] = [];
  const text = (stream: 'stdout' | 'stderr') => Buffer.concat(seen.filter((c) => c.stream === stream).map((c) => c.data)).toString('utf8');
  return { seen, onOutput: (c: OutputChunk) => void seen.push(c), text };
}

export function ioContract(ctx: ContractContext): void {
  const { labels } = ctx;
  const e = () => ctx.engine;

  it('attach hands over output while the process runs, each stream in order and apart', async () => {
    const { id } = await e().containers.create({ image: ctx.image, cmd: ['sh', '-c', 'echo one; echo two >&2; echo three; sleep 30'], labels, stopTimeoutSec: 1 });
    const live = collector();
    const { output } = await e().containers.attach(id, { onOutput: live.onOutput });
    await e().containers.start(id);
    await eventually('live output', async () => live.text('stdout') === 'one\nthree\n' && live.text('stderr') === 'two\n');
    // Seen before the exit: the process sleeps for another 30 s.
    assert.equal((await e().containers.inspect(id))?.state.running, true, 'output arrived while the container runs');
    await e().containers.kill(id);
    const out = await within(output, 60_000, 'attached output after the kill');
    assert.equal(out.stdout, 'one\nthree\n');
    assert.equal(out.stderr, 'two\n');
    assert.ok(live.seen.every((c) => Buffer.isBuffer(c.data) && c.data.length > 0));
    await e().containers.remove(id, { force: true });
  });

  it('logs with follow hand over output live, until the container stops', async () => {
    const { id } = await e().containers.create({ image: ctx.image, cmd: ['sh', '-c', 'echo early; sleep 30'], labels, stopTimeoutSec: 1 });
    await e().containers.start(id);
    const live = collector();
    const following = e().containers.logs(id, { follow: true, onOutput: live.onOutput });
    await eventually('followed output', async () => live.text('stdout') === 'early\n');
    assert.equal((await e().containers.inspect(id))?.state.running, true);
    await e().containers.kill(id);
    assert.equal((await within(following, 60_000, 'followed logs after the kill')).stdout, 'early\n');
    await e().containers.remove(id, { force: true });
  });

  it('attach before start writes stdin, then closes it: the process reads it and EOF', async () => {
    const { id } = await e().containers.create({ image: ctx.image, cmd: ['sh', '-c', 'cat; echo end'], labels, openStdin: true, stdinOnce: true });
    const { output } = await e().containers.attach(id, { stdin: 'hello\nworld\n' });
    await e().containers.start(id);
    // Bounded: were stdin never closed, cat would wait for ever.
    assert.deepEqual(await e().containers.wait(id, { timeoutMs: 60_000 }), { exitCode: 0 }, 'cat ended: stdin was closed');
    assert.equal((await within(output, 60_000, 'attached output')).stdout, 'hello\nworld\nend\n');
    await e().containers.remove(id, { force: true });
  });

  it('exec writes stdin and hands over its output live', async () => {
    const { id } = await e().containers.create({ image: ctx.image, cmd: ['sleep', '30'], labels, stopTimeoutSec: 1 });
    await e().containers.start(id);
    const live = collector();
    const r = await e().exec.run(id, { cmd: ['sh', '-c', 'cat; echo done >&2'], stdin: '{"n":1}', onOutput: live.onOutput, timeoutMs: 60_000 });
    assert.equal(r.exitCode, 0);
    assert.equal(r.output.stdout, '{"n":1}');
    assert.equal(r.output.stderr, 'done\n');
    assert.equal(live.text('stdout'), '{"n":1}');
    assert.equal(live.text('stderr'), 'done\n');
    await e().containers.remove(id, { force: true });
  });
}
