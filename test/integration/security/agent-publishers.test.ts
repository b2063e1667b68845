/**
 * Finding 14 (+ 12's quotas): who published. RabbitMQ checks the user_id property against the
 * connection's user; a policy naming users refuses everyone else and applies each user's own
 * policy and quotas. Two real RabbitMQ users, created for this test and deleted after.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import amqp from 'amqplib';
import { LABEL } from '../../../src/domain/labels.js';
import type { AgentProcess } from '../../../src/app/agent-process.js';
import { startAgentProcess } from '../../../src/app/agent-process.js';
import { silentLogger } from '../../../src/util/log.js';
import { AMQP_URL, TestClient, tempDir } from '../../helpers/agent.js';
import { publishAsUser } from '../../helpers/rabbit-users.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine } from '../../helpers/docker.js';

const runId = newRunId();
const engine = testEngine();
const labels = { [LABEL.test]: runId };
const userA = `bosun-a-${runId}`;
const userB = `bosun-b-${runId}`;
const vhost = decodeURIComponent(new URL(AMQP_URL).pathname.slice(1)) || '/';
const errorsQueue = `bosun.errors.pub-${runId}`;
let agent: AgentProcess;
let client: TestClient;
const conns = new Map<string, amqp.ChannelModel>();

type Reply = { ok: boolean; error?: { code: string; field?: string }; container?: { id: string } };

function urlFor(user: string): string {
  const u = new URL(AMQP_URL);
  u.username = user;
  u.password = `pw-${runId}`;
  return u.toString();
}

/** Publishes as `as` (its own connection) with the given user_id property and waits for the reply on its reply queue. */
async function send(as: string, channel: string, body: unknown, userId: string | undefined): Promise<Reply> {
  const conn = conns.get(as);
  assert.ok(conn);
  return publishAsUser<Reply>(conn, channel, body, userId);
}

const run = (extra: Record<string, unknown> = {}) => ({ image: TEST_IMAGE, command: 'echo hi', response_channel: `out-${runId}`, labels, ...extra });
const detached = () => ({ image: TEST_IMAGE, command: 'sleep 120', labels });

describe('publisher identity and per-publisher policy and quotas (real RabbitMQ users)', () => {
  before(async () => {
    for (const u of [userA, userB]) {
      execFileSync('rabbitmqctl', ['-q', 'add_user', u, `pw-${runId}`], { timeout: 60_000 });
      execFileSync('rabbitmqctl', ['-q', 'set_permissions', '-p', vhost, u, '.*', '.*', '.*'], { timeout: 60_000 });
    }
    const dir = tempDir('pubpolicy');
    const policyFile = join(dir, 'policy.json');
    writeFileSync(policyFile, JSON.stringify({
      users: {
        [userA]: { quotas: { runs_per_minute: 3, max_running_detached_per_publisher: 1 } },
        [userB]: { images: { allow: ['bosun-busybox', 'bosun-busybox:*'] } },
      },
    }));
    agent = await startAgentProcess({ brokerUrl: AMQP_URL, concurrency: 2, log: silentLogger, stateDir: tempDir('pubstate'), policyFile, errorsChannel: errorsQueue });
    client = await TestClient.connect();
    for (const u of [userA, userB]) conns.set(u, await amqp.connect(urlFor(u)));
  });
  after(async () => {
    for (const c of conns.values()) await c.close().catch(() => undefined);
    await agent?.stop();
    await client?.close();
    await removeTestContainers(engine, runId);
    for (const u of [userA, userB]) execFileSync('rabbitmqctl', ['-q', 'delete_user', u], { timeout: 60_000 });
  });

  it('a message without user_id, or from a user the policy does not name, is refused: publisher_unknown, field user_id', async () => {
    const anonymous = await send(userA, 'container_status', { name: 'nobody' }, undefined);
    assert.deepEqual([anonymous.ok, anonymous.error?.code, anonymous.error?.field], [false, 'publisher_unknown', 'user_id']);
    const guest = (await client.request('container_status', { name: 'nobody' })) as unknown as Reply;
    assert.equal(guest.error?.code, 'publisher_unknown', 'guest has no user_id here');
    const parked = await client.collect(errorsQueue);
    await eventually('both parked', async () => parked.messages.length >= 2);
    await parked.stop();
  });

  it('a publisher cannot claim another user: RabbitMQ refuses a user_id that is not the connection\'s user', async () => {
    const conn = conns.get(userB);
    assert.ok(conn);
    const ch = await conn.createConfirmChannel();
    ch.on('error', () => undefined);
    // An accepting broker confirms without an error (or says nothing): that must fail the test, not hang it.
    const outcome = await new Promise<unknown>((resolve) => {
      const timer = setTimeout(() => resolve('no answer within 10 s'), 10_000);
      const end = (v: unknown) => (clearTimeout(timer), resolve(v));
      ch.on('close', () => end('closed'));
      ch.publish('', 'container_status', Buffer.from('{"name":"x"}'), { userId: userA }, (err: unknown) => end(err ?? 'accepted'));
    });
    assert.ok(outcome !== 'accepted' && outcome !== 'no answer within 10 s', `the broker refused the forged user_id (got: ${String(outcome)})`);
    // The honest message from the same user is handled (so the refusal above was the broker's, not a dead agent).
    const honest = await send(userB, 'container_status', { name: `nobody-${runId}` }, userB);
    assert.equal(honest.error?.code, 'not_found');
  });

  it("each user's own policy applies: an image B may not use is policy_denied for B, not for A", async () => {
    const image = `not-here-${runId}`;
    const b = await send(userB, 'start_container.response_channel', run({ image, pull: 'never' }), userB);
    assert.deepEqual([b.error?.code, b.error?.field], ['policy_denied', 'image']);
    const a = await send(userA, 'start_container.response_channel', run({ image, pull: 'never' }), userA);
    assert.equal(a.error?.code, 'image_not_found');
  });

  it('running detached containers are capped per publisher (counted from Docker); another publisher is unaffected; containers carry the publisher', async () => {
    const first = await send(userA, 'start_container.create', detached(), userA);
    assert.equal(first.ok, true, JSON.stringify(first));
    const d = await engine.containers.inspect(first.container?.id ?? '');
    assert.equal(d?.labels[LABEL.publisher], userA);
    assert.equal(d?.labels[LABEL.run], 'detached');
    const second = await send(userA, 'start_container.create', detached(), userA);
    assert.deepEqual([second.error?.code, second.error?.field], ['quota_exceeded', 'quotas.max_running_detached_per_publisher']);
    const other = await send(userB, 'start_container.create', detached(), userB);
    assert.equal(other.ok, true, JSON.stringify(other));
  });

  it('runs per minute per publisher: A\'s third run in the minute passes, the fourth is quota_exceeded; B still runs', async () => {
    // A has started 2 runs so far (the image_not_found run and the first detached one; refused runs do not count).
    const third = await send(userA, 'start_container.response_channel', run(), userA);
    assert.equal(third.ok, true, JSON.stringify(third));
    const fourth = await send(userA, 'start_container.response_channel', run(), userA);
    assert.deepEqual([fourth.error?.code, fourth.error?.field], ['quota_exceeded', 'quotas.runs_per_minute']);
    const b = await send(userB, 'start_container.response_channel', run(), userB);
    assert.equal(b.ok, true, JSON.stringify(b));
  });
});
