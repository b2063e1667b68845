/**
 * Per-publisher workflows (issue 10) on a real agent: three real RabbitMQ users (validated
 * user_id), Docker, PGlite in the state dir. Another publisher's execution or definition reads
 * as missing; execution names are per publisher; tasks run under their starter's policy and
 * quotas and their containers carry the publisher label.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import amqp from 'amqplib';
import { LABEL } from '../../../src/domain/labels.js';
import { startAgentProcess, type AgentProcess } from '../../../src/app/agent-process.js';
import { silentLogger } from '../../../src/util/log.js';
import { AMQP_URL, tempDir } from '../../helpers/agent.js';
import { publishAsUser } from '../../helpers/rabbit-users.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine } from '../../helpers/docker.js';

const runId = newRunId();
const engine = testEngine();
const labels = { [LABEL.test]: runId };
const userA = `bosun-wfa-${runId}`;
const userB = `bosun-wfb-${runId}`;
const userC = `bosun-wfc-${runId}`;
const vhost = decodeURIComponent(new URL(AMQP_URL).pathname.slice(1)) || '/';
const conns = new Map<string, amqp.ChannelModel>();

type Reply = { ok: boolean; error?: { code: string; field?: string; message?: string }; result?: Record<string, unknown> };

function urlFor(user: string): string {
  const u = new URL(AMQP_URL);
  u.username = user;
  u.password = `pw-${runId}`;
  return u.toString();
}

/** Publishes as `user` (its own connection, user_id set) and waits for the reply. */
async function send(user: string, channel: string, body: Record<string, unknown>): Promise<Reply> {
  const conn = conns.get(user);
  assert.ok(conn);
  return publishAsUser<Reply>(conn, channel, body, user);
}

const waiter = { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 600, End: true } } };
const pass = (tag: string) => ({ StartAt: 'P', States: { P: { Type: 'Pass', Result: { tag }, End: true } } });
const runTask = (command: string, extra: Record<string, unknown> = {}) => ({
  Type: 'Task', Resource: 'bosun:run', Parameters: { image: TEST_IMAGE, pull: 'never', labels, command: ['sh', '-c', command] }, ...extra,
});

async function ended(user: string, id: string): Promise<Record<string, unknown>> {
  return eventually(`execution ${id} ended`, async () => {
    const r = await send(user, 'workflow.status', { execution_id: id });
    return r.ok && !['RUNNING', 'PAUSED'].includes(String(r.result?.status)) ? r.result : undefined;
  }, 120_000, 100);
}

describe('per-publisher workflows (real RabbitMQ users, Docker, PGlite)', () => {
  let agent: AgentProcess;
  const stateDir = tempDir('wf-tenancy');

  before(async () => {
    for (const u of [userA, userB, userC]) {
      execFileSync('rabbitmqctl', ['-q', 'add_user', u, `pw-${runId}`], { timeout: 60_000 });
      execFileSync('rabbitmqctl', ['-q', 'set_permissions', '-p', vhost, u, '.*', '.*', '.*'], { timeout: 60_000 });
    }
    const policyFile = join(tempDir('wf-tenancy-policy'), 'policy.json');
    writeFileSync(policyFile, JSON.stringify({
      users: {
        [userA]: { quotas: { runs_per_minute: 1 } },
        [userB]: { images: { allow: [`nothing-${runId}-*`] } },
        [userC]: {},
      },
    }));
    agent = await startAgentProcess({ brokerUrl: AMQP_URL, concurrency: 4, log: silentLogger, stateDir, policyFile, errorsChannel: `bosun.errors.wft-${runId}` });
    for (const u of [userA, userB, userC]) conns.set(u, await amqp.connect(urlFor(u)));
  });
  after(async () => {
    for (const c of conns.values()) await c.close().catch(() => undefined);
    await agent?.stop();
    await removeTestContainers(engine, runId);
    for (const u of [userA, userB, userC]) execFileSync('rabbitmqctl', ['-q', 'delete_user', u], { timeout: 60_000 });
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("B's status, history, pause, resume, redrive and cancel of A's execution are not_found, as for a missing one; A's own work", async () => {
    const start = await send(userA, 'workflow.start', { definition: waiter, execution_name: `wait-${runId}` });
    assert.equal(start.ok, true, JSON.stringify(start));
    const id = String(start.result?.execution_id);
    const missing = await send(userB, 'workflow.status', { execution_id: `no-such-${runId}` });
    assert.deepEqual([missing.error?.code, missing.error?.field], ['not_found', 'execution_id']);
    const notFound = (r: Reply, what: string): void => assert.deepEqual([r.ok, r.error?.code, r.error?.field], [false, 'not_found', 'execution_id'], `${what}: ${JSON.stringify(r)}`);

    assert.equal((await send(userA, 'workflow.status', { execution_id: id })).result?.status, 'RUNNING');
    notFound(await send(userB, 'workflow.status', { execution_id: id }), 'status');
    assert.equal((await send(userA, 'workflow.history', { execution_id: id })).ok, true);
    notFound(await send(userB, 'workflow.history', { execution_id: id }), 'history');
    notFound(await send(userB, 'workflow.pause', { execution_id: id }), 'pause');
    assert.equal((await send(userA, 'workflow.pause', { execution_id: id })).ok, true);
    notFound(await send(userB, 'workflow.resume', { execution_id: id }), 'resume');
    assert.equal((await send(userA, 'workflow.resume', { execution_id: id })).ok, true);
    notFound(await send(userB, 'workflow.redrive', { execution_id: id }), 'redrive');
    assert.equal((await send(userA, 'workflow.redrive', { execution_id: id })).error?.code, 'conflict', 'A may not redrive a running one, but reaches it');
    notFound(await send(userB, 'workflow.cancel', { execution_id: id }), 'cancel');
    assert.equal((await send(userA, 'workflow.status', { execution_id: id })).result?.status, 'RUNNING', "B's cancel did nothing");
    assert.equal((await send(userA, 'workflow.cancel', { execution_id: id })).ok, true);
    assert.equal((await ended(userA, id)).status, 'ABORTED');

    const listA = await send(userA, 'workflow.list', {});
    const listB = await send(userB, 'workflow.list', {});
    const ids = (r: Reply): string[] => ((r.result?.executions ?? []) as { execution_id: string }[]).map((e) => e.execution_id);
    assert.ok(ids(listA).includes(id));
    assert.equal(listB.ok, true);
    assert.ok(!ids(listB).includes(id), "B's list has none of A's");
  });

  it("definitions are per publisher: B defining A's name makes B's own v1; A's versions are unchanged", async () => {
    const name = `build-${runId}`;
    assert.equal((await send(userA, 'workflow.define', { name, definition: pass('a1') })).result?.version, 1);
    assert.equal((await send(userA, 'workflow.define', { name, definition: pass('a2') })).result?.version, 2);
    assert.equal((await send(userB, 'workflow.define', { name, definition: pass('b1') })).result?.version, 1);
    const a = await send(userA, 'workflow.start', { name });
    assert.equal(a.result?.version, 2);
    assert.deepEqual((await ended(userA, String(a.result?.execution_id))).output, { tag: 'a2' });
    const b = await send(userB, 'workflow.start', { name });
    assert.deepEqual((await ended(userB, String(b.result?.execution_id))).output, { tag: 'b1' });
    const c = await send(userC, 'workflow.start', { name });
    assert.deepEqual([c.error?.code, c.error?.field], ['not_found', 'name'], 'C sees neither');
  });

  it('the same execution_name by A and B is two executions; a repeat is idempotent, a different start a conflict naming execution_name', async () => {
    const execution_name = `job-${runId}`;
    const a = await send(userA, 'workflow.start', { definition: pass('x'), execution_name, input: { n: 1 } });
    const b = await send(userB, 'workflow.start', { definition: pass('x'), execution_name, input: { n: 1 } });
    assert.deepEqual([a.result?.created, b.result?.created], [true, true], JSON.stringify([a, b]));
    assert.notEqual(a.result?.execution_id, b.result?.execution_id);
    const again = await send(userA, 'workflow.start', { definition: pass('x'), execution_name, input: { n: 1 } });
    assert.deepEqual([again.result?.created, again.result?.execution_id], [false, a.result?.execution_id]);
    const other = await send(userA, 'workflow.start', { definition: pass('x'), execution_name, input: { n: 2 } });
    assert.deepEqual([other.ok, other.error?.code, other.error?.field], [false, 'conflict', 'execution_name'], JSON.stringify(other));
  });

  it("a task runs under its starter's policy: an image B may not use fails with bosun.PolicyDenied; C's same task succeeds", async () => {
    const def = { StartAt: 'T', States: { T: runTask('echo ok', { End: true }) } };
    const b = await send(userB, 'workflow.start', { definition: def });
    const bEnd = await ended(userB, String(b.result?.execution_id));
    assert.deepEqual([bEnd.status, bEnd.error], ['FAILED', 'bosun.PolicyDenied'], JSON.stringify(bEnd));
    const c = await send(userC, 'workflow.start', { definition: def });
    assert.equal((await ended(userC, String(c.result?.execution_id))).status, 'SUCCEEDED');
  });

  it("A's runs_per_minute 1: the second task of a 2-task workflow fails with bosun.QuotaExceeded (caught); the first task's container carries A's label", async () => {
    const def = {
      StartAt: 'First',
      States: {
        First: runTask('sleep 4; echo one', { Next: 'Second' }),
        Second: runTask('echo two', { Catch: [{ ErrorEquals: ['bosun.QuotaExceeded'], ResultPath: '$.refused', Next: 'Refused' }], End: true }),
        Refused: { Type: 'Pass', End: true },
      },
    };
    const a = await send(userA, 'workflow.start', { definition: def });
    const id = String(a.result?.execution_id);
    const running = await eventually('the first task container', async () => {
      const list = await engine.containers.list({ all: true, labels: { [LABEL.test]: runId, [LABEL.wfExecution]: id } });
      return list[0];
    }, 60_000, 50);
    assert.equal(running.labels[LABEL.publisher], userA);
    const end = await ended(userA, id);
    assert.equal(end.status, 'SUCCEEDED', JSON.stringify(end));
    const refused = (end.output as { refused?: { Error?: string; Cause?: string } }).refused;
    assert.equal(refused?.Error, 'bosun.QuotaExceeded');
    assert.match(refused?.Cause ?? '', /runs_per_minute/);
  });
});
