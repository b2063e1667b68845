/** AmqpTransport against the real RabbitMQ: the shared transport contract plus AMQP specifics. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { AmqpTransport } from '../../src/adapters/transport-amqp/amqp-transport.js';
import { silentLogger } from '../../src/util/log.js';
import { transportContract, until } from './transport.contract.js';
import type { InboundMessage } from '../../src/ports/transport.js';

const URL = process.env.BOSUN_TEST_AMQP ?? 'amqp://guest:guest@127.0.0.1:5672';

async function make(name?: string): Promise<AmqpTransport> {
  const t = new AmqpTransport(URL, silentLogger, name ? { connectionName: name } : {});
  await t.connect();
  return t;
}

async function deleteQueues(channels: string[]): Promise<void> {
  const t = await make();
  try {
    for (const ch of channels) await t.deleteChannel(ch).catch(() => undefined);
  } finally {
    await t.close();
  }
}

transportContract('amqp', () => make(), { cleanup: deleteQueues });

describe('AmqpTransport specifics', () => {
  const run = randomBytes(4).toString('hex');
  const channels: string[] = [];
  after(async () => deleteQueues(channels));

  it('reconnects after the broker drops its connection, and consumes and publishes again', async () => {
    const name = `bosun-test-conn-${run}`;
    const channel = `bosun-test-${run}-reconnect`;
    channels.push(channel);
    const t = await make(name);
    // closed in finally: a failed wait must not leave the socket open and hang the file
    try {
      const got: InboundMessage[] = [];
      await t.consume(channel, async (m) => {
        got.push(m);
        await m.ack();
      }, { prefetch: 1 });
      await t.publish(channel, 'before');
      await until('first message', async () => got.length === 1);
      // Close only our own connection, by its client-provided name.
      const conns = execFileSync('rabbitmqctl', ['-q', 'list_connections', 'pid', 'client_properties'], { encoding: 'utf8', timeout: 60_000 });
      const line = conns.split('\n').find((l) => l.includes(name));
      assert.ok(line, 'our connection is listed');
      const pid = line.split('\t')[0] as string;
      execFileSync('rabbitmqctl', ['-q', 'close_connection', pid, 'test: broker drop'], { timeout: 60_000 });
      await t.publish(channel, 'after');
      await until('message after reconnect', async () => got.length === 2, 30_000);
      assert.deepEqual(got.map((m) => m.body.toString()), ['before', 'after']);
    } finally {
      await t.close();
    }
  });

  it('connect is idempotent: a second call opens no second connection, and close leaves none', async () => {
    const name = `bosun-test-twice-${run}`;
    const ours = () => execFileSync('rabbitmqctl', ['-q', 'list_connections', 'client_properties'], { encoding: 'utf8', timeout: 60_000 })
      .split('\n').filter((l) => l.includes(name)).length;
    const t = await make(name);
    await Promise.all([t.connect(), t.connect()]);
    await t.connect();
    await until('our connection is listed', async () => ours() >= 1);
    assert.equal(ours(), 1);
    await t.close();
    await until('our connection is gone', async () => ours() === 0);
    await assert.rejects(t.connect(), { code: 'broker_error' });
  });
});
