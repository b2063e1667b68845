/**
 * Two agent processes on one queue (real RabbitMQ) and one PostgreSQL run ledger (own database
 * per run, dropped after), one Docker engine. The agent holding a run is SIGKILLed mid-run: the
 * other does not start it while the lease lives (it logs the hand-back, and no container is
 * made for it), then claims it as attempt 2, adopts the container, replies once with
 * `attempt: 2`. Then the holder is only frozen (SIGSTOP, its broker connection dropped by the
 * heartbeat) and thawed within its lease: it finishes and replies once, the other never starts it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { LABEL } from '../../../src/domain/labels.js';
import { openRunLedger, type SqlRunLedger } from '../../../src/adapters/store-sql/run-ledger.js';
import type { RunKey } from '../../../src/ports/run-ledger.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine, containersCreatedFor, eventsSince } from '../../helpers/docker.js';
import { AMQP_URL, TestClient, queuesSettled, spawnAgent, tempDir } from '../../helpers/agent.js';
import { storeLocation } from '../workflow/stores.js';

const engine = testEngine();
const runId = newRunId();
const labels = { [LABEL.test]: runId };
const CHANNEL = 'start_container.response_channel';
const HELD = 'run held by another agent; handed back until its lease ends';

interface Agent {
  name: string;
  child: ChildProcess;
  /** Parsed JSON log lines since spawn. */
  lines: Record<string, unknown>[];
}

/** The ledger's holder is `<--name>-<pid>-<random>`. */
const holderIs = (holder: unknown, a: Agent): boolean => typeof holder === 'string' && holder.startsWith(`${a.name}-`);

async function startAgent(name: string, store: string, leaseSeconds: number, broker = AMQP_URL): Promise<Agent> {
  const child = await spawnAgent(['--concurrency', '2', '--store', store, '--ledger-lease-seconds', String(leaseSeconds), '--name', name], {
    BOSUN_STATE_DIR: tempDir(`ledger-${name}`), BOSUN_BROKER_URL: broker,
  }, 120_000); // two agents start on a loaded machine
  const agent: Agent = { name, child, lines: [] };
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        agent.lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    }
  });
  return agent;
}

async function kill(a: Agent, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (a.child.exitCode !== null || a.child.signalCode !== null) return;
  const exited = new Promise((r) => a.child.once('exit', r));
  a.child.kill(signal);
  await exited;
}

/** SIGCONT (in case it is frozen) then SIGKILL, waiting for each exit. */
async function stopAll(list: Agent[]): Promise<void> {
  for (const a of list) {
    if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGCONT');
    await kill(a);
  }
}

const createdFor = (requestId: string, sinceNano: bigint): Promise<number> => containersCreatedFor(engine, requestId, sinceNano);
const nowNano = eventsSince;
const containersOf = (requestId: string) => engine.containers.list({ all: true, labels: { [LABEL.request]: requestId } });
const heldLines = (a: Agent, requestId: string) => a.lines.filter((l) => l.msg === HELD && l.requestId === requestId);

describe('run ledger shared by two agents', () => {
  let client: TestClient;
  let ledger: SqlRunLedger;
  let storeUrl: string;
  let drop: () => Promise<void>;
  const agents: Agent[] = [];

  before(async () => {
    const loc = await storeLocation('postgres');
    ({ url: storeUrl, drop } = loc);
    ledger = await openRunLedger(storeUrl);
    client = await TestClient.connect();
  });
  after(async () => {
    for (const a of agents) await stopAll([a]);
    await client.close();
    await ledger.close();
    await drop();
    await removeTestContainers(engine, runId);
  });

  /** Both agents up, the run sent; resolves once the ledger names its holder and its container runs. */
  async function sendRun(tag: string, leaseSeconds: number, command: string, broker?: string) {
    const pair = [await startAgent(`a-${tag}`, storeUrl, leaseSeconds, broker), await startAgent(`b-${tag}`, storeUrl, leaseSeconds, broker)];
    agents.push(...pair);
    const since = nowNano();
    const requestId = `ledger-${tag}-${runId}`;
    // Publisher 'guest' when the broker vouches for the test client's user id, '' when it names none.
    const keys: RunKey[] = ['guest', ''].map((publisher) => ({ channel: CHANNEL, publisher, requestId }));
    const replyChannel = `out-${runId}-${tag}`;
    const inbox = await client.collect(replyChannel);
    await client.send(CHANNEL, { image: TEST_IMAGE, command, response_channel: replyChannel, labels }, requestId);
    const found = await eventually('the ledger names a holder', async () => {
      for (const k of keys) if ((await ledger.get(k))?.holder !== undefined) return { key: k, row: (await ledger.get(k))! };
      return undefined;
    }, 60_000);
    const { key, row } = found;
    const holder = pair.find((a) => holderIs(row.holder, a))!;
    const other = pair.find((a) => a !== holder)!;
    await eventually('its container runs', async () => (await engine.containers.list({ labels: { [LABEL.request]: requestId }, status: ['running'] })).length === 1, 60_000);
    return { requestId, key, replyChannel, inbox, holder, other, since, stop: () => stopAll(pair) };
  }

  it('holder killed mid-run: the other waits for the lease, then runs it as attempt 2 and replies once', async () => {
    const run = await sendRun('kill', 8, 'sh -c "sleep 6; echo finished"');
    assert.equal((await ledger.get(run.key))?.attempt, 1);
    await kill(run.holder);
    // The other agent got the redelivery and handed it back: the lease was alive.
    await eventually('the other agent handed the delivery back', async () => heldLines(run.other, run.requestId).length > 0, 30_000);
    const held = heldLines(run.other, run.requestId)[0]!;
    assert.ok(holderIs(held.heldBy, run.holder), `held by ${String(held.heldBy)}`);
    assert.ok(Number(held.remainingMs) > 0);
    const during = await ledger.get(run.key);
    assert.deepEqual([during?.status, holderIs(during?.holder, run.holder), during?.attempt], ['running', true, 1], 'not claimed while the lease lives');
    assert.equal((await containersOf(run.requestId)).length, 1, 'only the dead holder\'s container exists');
    assert.equal(run.inbox.messages.length, 0);

    await eventually('one reply', async () => run.inbox.messages.length >= 1, 60_000);
    await eventually('request and reply queues settled', async () => queuesSettled([CHANNEL, run.replyChannel]), 30_000);
    const replies = run.inbox.json();
    assert.equal(replies.length, 1, JSON.stringify(replies));
    assert.equal(replies[0]?.attempt, 2);
    assert.equal(replies[0]?.ok, true);
    assert.equal(replies[0]?.stdout, 'finished\n');
    const done = await ledger.get(run.key);
    assert.deepEqual([done?.status, done?.confirmed, holderIs(done?.holder, run.other), done?.attempt], ['done', true, true, 2]);
    // The second start adopted the container the first one left (same engine): no second container.
    assert.equal(await createdFor(run.requestId, run.since), 1);
    await run.inbox.stop();
    await run.stop();
  });

  it('holder frozen and thawed within its lease: it finishes and replies once, the other never starts it', async () => {
    // A short heartbeat, so the broker drops the frozen agent's connection and redelivers to the other.
    const run = await sendRun('stop', 40, 'sh -c "sleep 3; echo thawed"', `${AMQP_URL}?heartbeat=1`);
    run.holder.child.kill('SIGSTOP');
    try {
      await eventually('the other agent got the delivery and handed it back', async () => heldLines(run.other, run.requestId).length > 0, 30_000);
    } finally {
      run.holder.child.kill('SIGCONT');
    }
    assert.ok(holderIs(heldLines(run.other, run.requestId)[0]?.heldBy, run.holder), 'the other agent says who holds it');
    await eventually('one reply', async () => run.inbox.messages.length >= 1, 60_000);
    await eventually('request and reply queues settled', async () => queuesSettled([CHANNEL, run.replyChannel]), 60_000);
    const replies = run.inbox.json();
    assert.equal(replies.length, 1, JSON.stringify(replies));
    assert.equal(replies[0]?.stdout, 'thawed\n');
    assert.equal(replies[0]?.attempt, undefined, 'the first attempt');
    const done = await ledger.get(run.key);
    assert.deepEqual([done?.status, done?.confirmed, holderIs(done?.holder, run.holder), done?.attempt], ['done', true, true, 1]);
    assert.equal(await createdFor(run.requestId, run.since), 1);
    // The other agent's later delivery found the run done and acked it without a reply.
    assert.ok(run.other.lines.some((l) => l.requestId === run.requestId && l.msg === 'run already done and answered; acked without a second reply'));
    await run.inbox.stop();
    await run.stop();
  });
});
