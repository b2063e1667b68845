/**
 * Findings 9–11: poison messages (ids and reply channels that cannot be published, retryable
 * failures forever), oversized bodies, and the errors queue (parked exactly once, original
 * bytes). Real agent process, real RabbitMQ and Docker.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { LABEL } from '../../../src/domain/labels.js';
import { AMQP_URL, TestClient, spawnAgent, stopChild, tempDir } from '../../helpers/agent.js';
import { eventually, newRunId, removeTestContainers, testEngine } from '../../helpers/docker.js';

const runId = newRunId();
const errorsQueue = `bosun.errors.poison-${runId}`;
let client: TestClient;
let child: ChildProcess;
let parked: Awaited<ReturnType<TestClient['collect']>>;
/** A queue that refuses every publish (max-length 0, reject-publish): the broker nacks. */
const fullQueue = `full-${runId}`;
const target = `poison-target-${runId}`;
let raw: amqp.ChannelModel;

type Reply = { ok: boolean; request_id: string; error?: { code: string; field?: string; details?: Record<string, unknown> } };
type Rec = { request_id: string; error: { code: string; details?: Record<string, unknown> }; body: string; body_encoding: string; body_bytes: number; body_truncated?: boolean; body_sha256?: string };

const records = () => parked.json() as unknown as Rec[];
/** Sends raw bytes (not JSON-encoded) and waits for the reply on a private queue. */
async function askRaw(channel: string, body: Buffer | string, timeoutMs = 30_000): Promise<{ id: string; reply: Reply }> {
  const id = `p-${randomUUID()}`;
  const replyTo = `bosun.reply.${randomUUID()}`;
  const inbox = await client.collect(replyTo, true);
  try {
    await client.transport.publish(channel, body, { replyTo, messageId: id, correlationId: id });
    await eventually('reply', async () => inbox.messages.length > 0, timeoutMs, 25);
    return { id, reply: inbox.json()[0] as unknown as Reply };
  } finally {
    await inbox.stop();
  }
}
const recordsFor = (id: string) => records().filter((r) => r.request_id === id);
/** A request id the test can find its record by: the AMQP message id. */
const ask = (channel: string, body: unknown, timeoutMs = 15_000) => {
  const id = `p-${randomUUID()}`;
  return client.request(channel, body, { messageId: id, timeoutMs }).then((r) => ({ id, reply: r as unknown as Reply }));
};

describe('poison messages and the errors queue', () => {
  before(async () => {
    client = await TestClient.connect();
    child = await spawnAgent(['--errors-queue', errorsQueue, '--max-attempts', '3'], { BOSUN_STATE_DIR: tempDir('poison'), BOSUN_BROKER_URL: AMQP_URL });
    parked = await client.collect(errorsQueue);
    raw = await amqp.connect(AMQP_URL);
    const ch = await raw.createChannel();
    await ch.assertQueue(fullQueue, { durable: true, arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' } });
    await ch.close();
    const engine = testEngine();
    const { id } = await engine.containers.create({ image: 'bosun-busybox:latest', name: target, cmd: ['sleep', '600'], labels: { [LABEL.test]: runId, [LABEL.managed]: 'true' } });
    await engine.containers.start(id);
  });
  after(async () => {
    await stopChild(child);
    await parked.stop();
    await client.close();
    await removeTestContainers(testEngine(), runId);
    const ch = await raw.createChannel();
    await ch.deleteQueue(fullQueue);
    await raw.close();
  });

  it('a request_id over 255 bytes is refused at validation (reply + one record); four of them do not stall an unrelated message', async () => {
    const long = 'r'.repeat(300);
    const replies = await Promise.all([1, 2, 3, 4].map(() => client.request('container_status', { name: 'nobody', request_id: long }, { timeoutMs: 15_000 }) as Promise<unknown> as Promise<Reply>));
    for (const r of replies) assert.deepEqual([r.ok, r.error?.code, r.error?.field], [false, 'invalid_message', 'request_id']);
    const hashed = `sha256:${createHash('sha256').update(long).digest('hex')}`;
    const t0 = Date.now();
    const { reply } = await ask('container_status', { name: `missing-${runId}` });
    assert.equal(reply.error?.code, 'not_found');
    assert.ok(Date.now() - t0 < 5_000, `unrelated message took ${Date.now() - t0} ms`);
    await eventually('records', async () => records().filter((r) => r.request_id !== hashed).length >= 1 && true);
    assert.ok(child.exitCode === null);
  });

  for (const rc of ['q'.repeat(300), 'amq.not-declarable', 'has space']) {
    it(`response_channel ${JSON.stringify(rc.slice(0, 20))}… is refused (field response_channel), answered on reply_to, parked once`, async () => {
      const { id, reply } = await ask('start_container.response_channel', { image: 'bosun-busybox', command: 'true', response_channel: rc });
      assert.deepEqual([reply.ok, reply.error?.code, reply.error?.field], [false, 'invalid_message', 'response_channel']);
      await eventually('parked', async () => recordsFor(id).length === 1);
    });
  }

  it('an 8 MB body is parked as message_too_large without decoding: size, sha256 and a prefix kept; answered at once', async () => {
    const big = Buffer.alloc(8 * 1024 * 1024, 0x7b);
    const { id, reply } = await askRaw('container_status', big);
    assert.equal(reply.error?.code, 'message_too_large');
    assert.ok((reply as unknown as { duration_ms: number }).duration_ms < 1_000, JSON.stringify(reply));
    const [rec] = await eventually('parked', async () => (recordsFor(id).length ? recordsFor(id) : undefined));
    assert.ok(rec);
    assert.equal(rec.body_truncated, true);
    assert.equal(rec.body_bytes, big.length);
    assert.equal(rec.body_sha256, createHash('sha256').update(big).digest('hex'));
    assert.deepEqual(Buffer.from(rec.body, 'base64'), big.subarray(0, 4096));
  });

  it('a 900 KB malformed body is refused as bad_json quickly (JSON5 is not tried on big bodies)', async () => {
    const { reply } = await askRaw('container_status', `{name: '${'x'.repeat(900 * 1024)}'`);
    assert.equal(reply.error?.code, 'bad_json');
    assert.ok((reply as unknown as { duration_ms: number }).duration_ms < 1_000, JSON.stringify(reply));
  });

  it('a binary body is kept byte for byte in its record (base64), not with U+FFFD', async () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0xc3, 0x28]);
    const { id, reply } = await askRaw('container_status', bytes);
    assert.equal(reply.error?.code, 'bad_json');
    const [rec] = await eventually('parked', async () => (recordsFor(id).length ? recordsFor(id) : undefined));
    assert.equal(rec?.body_encoding, 'base64');
    assert.deepEqual(Buffer.from(rec?.body ?? '', 'base64'), bytes);
  });

  it('an error reply the broker refuses (full reject-publish response_channel) does not re-park: one record, reply_to answered', async () => {
    const { id, reply } = await ask('container_status', { name: `missing-${runId}`, response_channel: fullQueue });
    assert.equal(reply.error?.code, 'not_found');
    await eventually('parked', async () => recordsFor(id).length === 1);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(recordsFor(id).length, 1);
  });

  it('a response_channel that keeps refusing: reply_to has the reply at once and only once; the refused one is sent --max-attempts times, then parked whole (one record); others are not stalled', async () => {
    const id = `p-${randomUUID()}`;
    const replyTo = `bosun.reply.${randomUUID()}`;
    const inbox = await client.collect(replyTo, true);
    try {
      await client.transport.publish('container_status', JSON.stringify({ name: target, response_channel: fullQueue }), { replyTo, messageId: id, correlationId: id });
      const t0 = Date.now();
      const other = await ask('container_status', { name: `missing-${runId}-2` });
      assert.equal(other.reply.error?.code, 'not_found');
      assert.ok(Date.now() - t0 < 5_000, `an unrelated message took ${Date.now() - t0} ms`);
      await eventually('reply_to answered', async () => inbox.messages.length > 0, 15_000, 25);
      const reply = inbox.json()[0] as unknown as Reply;
      assert.deepEqual([reply.ok, reply.request_id], [true, id], JSON.stringify(reply));
      const [rec] = await eventually('parked', async () => (recordsFor(id).length ? recordsFor(id) : undefined), 30_000);
      const details = rec?.error.details as { undelivered: { channel: string; body: string }[]; answered: string[] };
      assert.equal(rec?.error.code, 'broker_error');
      assert.deepEqual(details.answered, [replyTo]);
      assert.deepEqual(details.undelivered.map((u) => u.channel), [fullQueue]);
      assert.deepEqual(JSON.parse(details.undelivered[0]!.body), reply, 'the parked reply is the one reply_to had: the run was not done again');
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(recordsFor(id).length, 1);
      assert.equal(inbox.messages.length, 1, 'reply_to heard once');
    } finally {
      await inbox.stop();
    }
  });

  it('every record was parked exactly once and nothing is left on the channels', async () => {
    const ids = records().map((r) => r.request_id);
    const counts = new Map<string, number>();
    for (const i of ids) counts.set(i, (counts.get(i) ?? 0) + 1);
    const hashed = `sha256:${createHash('sha256').update('r'.repeat(300)).digest('hex')}`;
    for (const [i, n] of counts) assert.equal(n, i === hashed ? 4 : 1, i);
    for (const ch of ['container_status', 'start_container.create', 'start_container.response_channel']) assert.equal(await client.transport.depth(ch), 0, ch);
    assert.equal(child.exitCode, null);
  });
});
