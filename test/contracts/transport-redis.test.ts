/**
 * RedisTransport against the real Redis (BOSUN_TEST_REDIS_URL or redis://127.0.0.1:6379):
 * the shared transport contract, then Redis specifics (crash redelivery, pub/sub bridge, routed echo,
 * ephemeral stream deletion, depth with tombstones). Every key is `bosun-test-<random>...` and deleted after.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisTransport, type RedisTransportOptions } from '../../src/adapters/transport-redis/redis-transport.js';
import { silentLogger } from '../../src/util/log.js';
import { BOSUN_EXCHANGE, type InboundMessage } from '../../src/ports/transport.js';
import { Inbox, transportContract, until } from './transport.contract.js';

const URL = process.env.BOSUN_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function deleteKeys(channels: string[]): Promise<void> {
  const raw = new Redis(URL);
  try {
    for (const ch of channels) {
      const related = await raw.keys(`bosun:*:${ch}*`);
      await raw.del(ch, ...related);
    }
  } finally {
    await raw.quit();
  }
}

async function makeTransport(opts: RedisTransportOptions = {}): Promise<RedisTransport> {
  const t = new RedisTransport(URL, silentLogger, opts);
  await t.connect();
  return t;
}

transportContract('redis', () => makeTransport(), { cleanup: deleteKeys });

describe('RedisTransport specifics', () => {
  const run = randomBytes(4).toString('hex');
  const channels: string[] = [];
  const transports: RedisTransport[] = [];
  let n = 0;
  const channel = (): string => {
    const c = `bosun-test-${run}-r${++n}`;
    channels.push(c);
    return c;
  };
  const open = async (opts: RedisTransportOptions = {}): Promise<RedisTransport> => {
    const t = await makeTransport(opts);
    transports.push(t);
    return t;
  };
  const raw = new Redis(URL);

  after(async () => {
    for (const t of transports) await t.close();
    await deleteKeys(channels);
    await raw.quit();
  });

  it('writes the documented stream fields', async () => {
    const t = await open();
    const ch = channel();
    await t.publish(ch, 'b', { replyTo: 'r', correlationId: 'c', messageId: 'm', headers: { h: '1' } });
    const entries = await raw.xrange(ch, '-', '+');
    assert.equal(entries.length, 1);
    assert.deepEqual(entries[0]?.[1], ['body', 'b', 'reply_to', 'r', 'correlation_id', 'c', 'message_id', 'm', 'headers', '{"h":"1"}']);
  });

  it('a message left unacked by a crashed consumer is claimed by another with redelivered=true', async () => {
    const ch = channel();
    const crashed = new RedisTransport(URL, silentLogger, { claimTimeoutMs: 60_000 });
    await crashed.connect();
    await crashed.declareChannel(ch);
    const first = new Inbox();
    await crashed.consume(ch, first.handler, { prefetch: 1 });
    await crashed.publish(ch, 'orphan', { messageId: 'orphan-1' });
    await first.waitFor(1);
    await crashed.close(); // never acked: stays pending on the dead consumer

    const survivor = await open({ claimTimeoutMs: 200 });
    const box = new Inbox(20_000, (m) => m.ack());
    const sub = await survivor.consume(ch, box.handler, { prefetch: 1 });
    const [m] = await box.waitFor(1);
    assert.equal(m?.body.toString(), 'orphan');
    assert.equal(m?.messageId, 'orphan-1');
    assert.equal(m?.redelivered, true);
    await sub.cancel();
    await until('nothing pending', async () => (await raw.xpending(ch, 'bosun'))[0] === 0);
  });

  it('a message whose handler throws without settling is redelivered after the claim timeout', async () => {
    const ch = channel();
    const t = await open({ claimTimeoutMs: 200 });
    const box = new Inbox(20_000, async (m, b) => {
      if (b.messages.length === 1) throw new Error('handler failed (expected by the test)');
      await m.ack();
    });
    const sub = await t.consume(ch, box.handler, { prefetch: 1 });
    await t.publish(ch, 'flaky');
    const [one, two] = await box.waitFor(2);
    assert.equal(one?.redelivered, false);
    assert.equal(two?.redelivered, true);
    assert.equal(two?.messageId, one?.messageId);
    await sub.cancel();
  });

  it('a restarted consumer with the same consumerId re-reads its own pending entries first', async () => {
    const ch = channel();
    const consumerId = `bosun-test-${run}-agent`;
    const before = new RedisTransport(URL, silentLogger, { consumerId });
    await before.connect();
    const first = new Inbox();
    await before.consume(ch, first.handler, { prefetch: 1 });
    await before.publish(ch, 'mine');
    await first.waitFor(1);
    await before.close();

    const again = await open({ consumerId });
    const box = new Inbox(20_000, (m) => m.ack());
    const sub = await again.consume(ch, box.handler, { prefetch: 1 });
    const [m] = await box.waitFor(1);
    assert.equal(m?.body.toString(), 'mine');
    assert.equal(m?.redelivered, true);
    await sub.cancel();
  });

  it('bridges a plain PUBLISH into the stream exactly once with two transports consuming', async () => {
    const ch = channel();
    const [a, b] = [await open(), await open()];
    const got: Array<{ who: string; m: InboundMessage }> = [];
    const box = new Inbox(20_000, async (m) => {
      await m.ack();
    });
    const subA = await a.consume(ch, async (m) => { got.push({ who: 'a', m }); await box.handler(m); }, { prefetch: 5 });
    const subB = await b.consume(ch, async (m) => { got.push({ who: 'b', m }); await box.handler(m); }, { prefetch: 5 });
    assert.equal(await raw.publish(ch, 'from-pubsub'), 2);
    await box.waitFor(1);
    // Ordering marker through the same path: once it is in, the first PUBLISH has been handled by both.
    await raw.publish(ch, 'marker');
    await box.waitFor(2);
    await until('both pub/sub messages settled', async () => (await raw.xlen(ch)) === 2);
    assert.deepEqual(box.bodies().sort(), ['from-pubsub', 'marker']);
    assert.equal(await raw.xlen(ch), 2);
    await Promise.all([subA.cancel(), subB.cancel()]);
    assert.equal(await raw.exists(`bosun:bridge:${ch}`), 0, 'lease released when nobody consumes');
  });

  it('publishRouted reaches a consuming agent once (the pub/sub echo is not bridged again)', async () => {
    const ch = channel();
    const t = await open();
    const box = new Inbox(20_000, (m) => m.ack());
    const sub = await t.consume(ch, box.handler, { prefetch: 5 });
    await t.publishRouted(BOSUN_EXCHANGE, ch, 'event-1', { correlationId: 'ev' });
    await raw.publish(ch, 'marker'); // handled by the bridge after the echo of event-1
    await box.waitFor(2);
    await until('stream holds event and marker', async () => (await raw.xlen(ch)) === 2);
    assert.deepEqual(box.bodies().sort(), ['event-1', 'marker']);
    assert.equal(box.messages.find((m) => m.body.toString() === 'event-1')?.correlationId, 'ev');
    await sub.cancel();
  });

  it('keeps consuming after its connections are killed (ioredis reconnects, loops retry)', async () => {
    const ch = channel();
    const consumerId = `bosun-test-${run}-recon`;
    const t = await open({ consumerId });
    const box = new Inbox(20_000, (m) => m.ack());
    const sub = await t.consume(ch, box.handler, { prefetch: 2 });
    await t.publish(ch, 'before');
    await box.waitFor(1);
    const clients = String(await raw.call('CLIENT', 'LIST')).split('\n');
    const ours = clients.filter((l) => l.includes(` name=bosun:${consumerId}:`));
    assert.equal(ours.length, 3, ours.join('\n')); // cmd, read:<ch>, sub
    for (const line of ours) await raw.call('CLIENT', 'KILL', 'ID', /id=(\d+)/.exec(line)?.[1] ?? '0');
    await t.publish(ch, 'after-kill');
    await box.waitFor(2);
    await until('resubscribed', async () => Number((await raw.pubsub('NUMSUB', ch))[1]) === 1);
    await until('lease refreshed', async () => (await raw.get(`bosun:bridge:${ch}`)) === consumerId);
    await raw.publish(ch, 'pubsub-after-kill');
    await box.waitFor(3);
    assert.deepEqual(box.bodies(), ['before', 'after-kill', 'pubsub-after-kill']);
    assert.equal(t.isConnected(), true);
    await sub.cancel();
  });

  it('deletes the ephemeral stream on cancel', async () => {
    const ch = channel();
    const t = await open();
    const box = new Inbox(20_000, (m) => m.ack());
    const sub = await t.consume(ch, box.handler, { prefetch: 1, ephemeral: true });
    await t.publish(ch, 'x');
    await box.waitFor(1);
    await sub.cancel();
    assert.equal(await raw.exists(ch), 0);
  });

  it('ephemeral nack(requeue) hands the message back with redelivered=true', async () => {
    const ch = channel();
    const t = await open();
    const box = new Inbox(20_000, async (m, b) => (b.messages.length === 1 ? m.nack({ requeue: true }) : m.ack()));
    const sub = await t.consume(ch, box.handler, { prefetch: 1, ephemeral: true });
    await t.publish(ch, 'again');
    const [one, two] = await box.waitFor(2);
    assert.equal(one?.redelivered, false);
    assert.equal(two?.redelivered, true);
    assert.equal(two?.body.toString(), 'again');
    await sub.cancel();
  });

  it('depth stays exact when Redis reports lag as null (entries deleted with XDEL)', async () => {
    const ch = channel();
    const t = await open();
    await t.declareChannel(ch);
    for (let i = 0; i < 4; i++) await t.publish(ch, `e${i}`);
    const [firstEntry] = await raw.xrange(ch, '-', '+', 'COUNT', 1);
    await raw.xdel(ch, firstEntry?.[0] ?? '0-0');
    assert.equal(await t.depth(ch), 3);
    assert.equal(await t.depth(`${ch}-missing`), 0);
  });
});
