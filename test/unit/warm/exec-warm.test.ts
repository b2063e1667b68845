/**
 * execWarm with the exec made beside the claim (Claimed.prepared), on the fake engine: the run's
 * timeout and the agent's shutdown bound the wait for the making too, and a refused making is the
 * exec's refusal (the command never ran).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeEngine } from '../../../src/adapters/engine-fake/index.js';
import { BosunError, isBosunError } from '../../../src/domain/errors.js';
import type { ContainerEngine } from '../../../src/ports/engine.js';
import type { Claimed } from '../../../src/warm/pools.js';
import { execWarm } from '../../../src/warm/warm-run.js';

const IMG = 'base:1';
/** Removed after the suite: a fake container's `sleep 3600` would keep the process alive. */
const made: Array<() => Promise<void>> = [];
after(async () => void (await Promise.all(made.map((remove) => remove()))));

async function member(): Promise<{ engine: ContainerEngine; id: string; kills: string[] }> {
  const fake = new FakeEngine({ images: [IMG] });
  const kills: string[] = [];
  const kill = fake.containers.kill.bind(fake.containers);
  fake.containers.kill = async (id, ...rest) => {
    kills.push(id);
    return kill(id, ...rest);
  };
  const { id } = await fake.containers.create({ image: IMG, entrypoint: ['sleep', '3600'] });
  await fake.containers.start(id);
  made.push(() => fake.containers.remove(id, { force: true }));
  return { engine: fake, id, kills };
}

const claimedOf = (id: string, prepared: Promise<{ id: string }>): Claimed => ({ id, name: 'bosun-warm-x', pool: 'p', image: {}, prepared });
const opts = (engine: ContainerEngine, o: { timeoutMs?: number; signal?: AbortSignal } = {}) => ({ engine, signal: o.signal ?? new AbortController().signal, timeoutMs: o.timeoutMs ?? 30_000, outputLimit: 1 << 20, replyLimit: 1 << 20 });

describe('execWarm with a prepared exec', () => {
  it('runs the exec made beside the claim', async () => {
    const { engine, id } = await member();
    const prepared = engine.exec.prepare(id, { cmd: ['echo', 'warm'] });
    const end = await execWarm(claimedOf(id, prepared), ['echo', 'warm'], { image: IMG }, opts(engine));
    assert.equal(end.exitCode, 0);
    assert.equal(end.out.stdout, 'warm\n');
  });

  it('a making that never answers ends at the run\'s timeout, and the member is killed', async () => {
    const { engine, id, kills } = await member();
    let started = false;
    const end = await execWarm(claimedOf(id, new Promise(() => undefined)), ['echo', 'never'], { image: IMG }, { ...opts(engine, { timeoutMs: 30 }), onStarted: () => void (started = true) });
    assert.equal(end.timedOut, true);
    assert.equal(started, false, 'the command never started');
    assert.deepEqual(kills, [id]);
  });

  it('a shutdown during the making stops the run as a retryable timeout', async () => {
    const { engine, id } = await member();
    const stop = new AbortController();
    const running = execWarm(claimedOf(id, new Promise(() => undefined)), ['echo', 'never'], { image: IMG }, opts(engine, { signal: stop.signal }));
    stop.abort();
    await assert.rejects(running, (e: unknown) => isBosunError(e) && e.code === 'timeout' && e.retryable === true);
  });

  it('a refused making is the exec\'s refusal', async () => {
    const { engine, id } = await member();
    const refused = Promise.reject(new BosunError('conflict', `exec in ${id}: container is not running`));
    refused.catch(() => undefined);
    await assert.rejects(execWarm(claimedOf(id, refused), ['echo', 'never'], { image: IMG }, opts(engine)), (e: unknown) => isBosunError(e) && e.code === 'conflict');
  });
});
