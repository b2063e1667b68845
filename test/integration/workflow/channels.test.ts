/**
 * The workflow.* channels on a real agent (RabbitMQ, Docker, PGlite in the state dir): a
 * 2-task bosun:run chain started by a message, its end reply on the response channel exactly
 * once, starts idempotent by execution_name, status and history, and bad messages answered
 * with field errors and parked once.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { LABEL } from '../../../src/domain/labels.js';
import { startAgentProcess, type AgentProcess } from '../../../src/app/agent-process.js';
import type { InboundMessage } from '../../../src/ports/transport.js';
import { silentLogger } from '../../../src/util/log.js';
import { AMQP_URL, TestClient, queuesSettled, tempDir } from '../../helpers/agent.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine } from '../../helpers/docker.js';

const engine = testEngine();
const runId = newRunId();
const labels = { [LABEL.test]: runId };

const task = (command: string, next: string | null) => ({
  Type: 'Task', Resource: 'bosun:run',
  Parameters: { image: TEST_IMAGE, pull: 'never', labels, command: ['sh', '-c', command] },
  ...(next ? { Next: next } : { End: true }),
});
/** Seed 000's chain: the first run's JSON output is the second run's input. */
const chain = {
  StartAt: 'Greet',
  States: {
    Greet: { ...task('echo "{\\"greeting\\": \\"hello\\"}"', 'Shout'), OutputPath: '$.json' },
    Shout: { ...task('echo "$BOSUN_INPUT" | tr a-z A-Z', null), OutputPath: '$.stdout' },
  },
};

type Json = Record<string, unknown>;
const resultOf = (env: Json): Json => env.result as Json;

describe('workflow.* channels on the agent', () => {
  let agent: AgentProcess;
  let client: TestClient;
  const stateDir = tempDir('wf-channels');
  const errorsChannel = `bosun.errors.wf-${runId}`;

  before(async () => {
    agent = await startAgentProcess({ brokerUrl: AMQP_URL, concurrency: 4, log: silentLogger, stateDir, errorsChannel });
    client = await TestClient.connect();
  });
  after(async () => {
    await client.close();
    await agent.stop();
    await removeTestContainers(engine, runId);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('a message starts a 2-task chain; the end reply arrives on the response channel once, and on reply_to after the start reply', async () => {
    const responseChannel = `wf-out-${runId}`;
    const replyTo = `bosun.reply.${randomUUID()}`;
    const out = await client.collect(responseChannel);
    const mine = await client.collect(replyTo, true);
    const correlationId = randomUUID();
    await client.transport.publish('workflow.start', JSON.stringify({ definition: chain, input: { who: 'world' }, response_channel: responseChannel }), { replyTo, correlationId });

    const [started] = await eventually('start reply', async () => (mine.messages.length ? mine.json() : undefined));
    assert.equal(started?.ok, true, JSON.stringify(started));
    const { execution_id: id, status, created } = resultOf(started!) as { execution_id: string; status: string; created: boolean };
    assert.equal(status, 'RUNNING');
    assert.equal(created, true);

    const [end] = await eventually('end reply', async () => (out.messages.length ? out.json() : undefined), 60_000);
    assert.equal(end?.ok, true, JSON.stringify(end));
    assert.equal(end?.action, 'workflow.start');
    assert.deepEqual(end?.result, { execution_id: id, status: 'SUCCEEDED', output: '{"GREETING":"HELLO"}\n' });
    assert.equal(out.messages[0]?.correlationId, correlationId);

    // Once: the store marks it sent (so no agent sends it again) and nothing else is on its way.
    await eventually('reply marked sent', async () => (await agent.workflows!.store.getExecution(id))?.endReplySent === true);
    await eventually('queues settled', async () => queuesSettled([responseChannel]));
    await eventually('end reply on reply_to too', async () => mine.messages.length === 2);
    assert.equal(out.messages.length, 1);
    assert.deepEqual(mine.json()[1]?.result, end?.result);
    assert.equal(mine.messages[1]?.messageId, out.messages[0]?.messageId);
    await out.stop();
    await mine.stop();
    await (client.transport as { deleteChannel?: (c: string) => Promise<void> }).deleteChannel?.(responseChannel);
  });

  it('workflow.define stores versions; workflow.start by name is idempotent on execution_name', async () => {
    const name = `chain-${runId}`;
    const v1 = await client.request('workflow.define', { name, definition: chain });
    assert.deepEqual(v1.result, { name, version: 1 });
    const v2 = await client.request('workflow.define', { name, definition: JSON.stringify(chain) });
    assert.deepEqual(v2.result, { name, version: 2 });

    const executionName = `once-${runId}`;
    const first = await client.request('workflow.start', { name, execution_name: executionName, input: {} });
    assert.deepEqual(first.result, { execution_id: executionName, status: 'RUNNING', created: true, name, version: 2 });
    const again = await client.request('workflow.start', { name, execution_name: executionName, input: {} });
    assert.equal(resultOf(again).execution_id, executionName);
    assert.equal(resultOf(again).created, false);
    assert.equal(resultOf(again).version, 2, 'the execution that exists');
    // Another start under the same name (Step Functions: ExecutionAlreadyExists).
    const other = await client.request('workflow.start', { name, version: 1, execution_name: executionName, input: { other: true } });
    assert.deepEqual([other.ok, (other.error as { code?: string; field?: string } | undefined)?.code, (other.error as { field?: string } | undefined)?.field], [false, 'conflict', 'execution_name']);

    const ended = await eventually('ended', async () => {
      const s = await client.request('workflow.status', { execution_id: executionName });
      return resultOf(s).status !== 'RUNNING' ? resultOf(s) : undefined;
    }, 60_000);
    assert.equal(ended.status, 'SUCCEEDED');
    const listed = await client.request('workflow.list', { limit: 1000 });
    const ids = (resultOf(listed).executions as { execution_id: string }[]).map((e) => e.execution_id);
    assert.equal(ids.filter((i) => i === executionName).length, 1);
    // One ExecutionStarted and two task runs in its history: the repeat started nothing.
    const h = await client.request('workflow.history', { execution_id: executionName, limit: 1000 });
    const types = (resultOf(h).events as { type: string }[]).map((e) => e.type);
    assert.equal(types.filter((t) => t === 'ExecutionStarted').length, 1);
    assert.equal(types.filter((t) => t === 'TaskScheduled').length, 2);
  });

  it('workflow.status and workflow.history describe the execution; history pages with after_seq and limit', async () => {
    const executionName = `seen-${runId}`;
    await client.request('workflow.start', { definition: chain, execution_name: executionName, input: { who: 'x' } });
    await eventually('ended', async () => resultOf(await client.request('workflow.status', { execution_id: executionName })).status === 'SUCCEEDED', 60_000);
    const s = resultOf(await client.request('workflow.status', { execution_id: executionName }));
    assert.equal(s.execution_id, executionName);
    assert.deepEqual(s.input, { who: 'x' });
    assert.equal(s.output, '{"GREETING":"HELLO"}\n');
    assert.deepEqual(s.current_states, []);
    assert.ok(Date.parse(String(s.created_at)) <= Date.parse(String(s.updated_at)));

    const all = resultOf(await client.request('workflow.history', { execution_id: executionName, limit: 1000 })).events as { seq: number; type: string; state?: string }[];
    assert.deepEqual(all.map((e) => e.seq), all.map((_, i) => i + 1));
    assert.equal(all[0]?.type, 'ExecutionStarted');
    assert.equal(all.at(-1)?.type, 'ExecutionSucceeded');
    assert.deepEqual(all.filter((e) => e.type === 'StateEntered').map((e) => e.state), ['Greet', 'Shout']);
    const page1 = resultOf(await client.request('workflow.history', { execution_id: executionName, limit: 3 }));
    assert.deepEqual((page1.events as { seq: number }[]).map((e) => e.seq), [1, 2, 3]);
    assert.equal(page1.next_seq, 3);
    const page2 = resultOf(await client.request('workflow.history', { execution_id: executionName, after_seq: 3, limit: 1000 }));
    assert.equal((page2.events as { seq: number }[])[0]?.seq, 4);
    assert.equal(page2.next_seq, undefined);
  });

  it('bad messages get an error naming the field, on reply_to, and are parked on the errors queue once each', async () => {
    const parked: InboundMessage[] = [];
    const sub = await client.transport.consume(errorsChannel, async (m) => {
      parked.push(m);
      await m.ack();
    }, { prefetch: 100 });
    try {
      const cases: [string, unknown, string, string][] = [
        ['workflow.start', { name: 'x', definition: chain }, 'invalid_message', 'definition'],
        ['workflow.start', { input: {} }, 'invalid_message', 'name'],
        ['workflow.start', { definition: { StartAt: 'A', States: { A: { Type: 'Pass', Next: 'Missing' } } } }, 'invalid_message', 'definition.States.A.Next'],
        ['workflow.start', { definition: 'StartAt: [unclosed' }, 'bad_json', 'definition'],
        ['workflow.start', { name: `never-defined-${runId}` }, 'not_found', 'name'],
        ['workflow.start', { definition: chain, execution_name: 'has space' }, 'invalid_message', 'execution_name'],
        ['workflow.define', { name: 'x', definition: chain, bogus: 1 }, 'invalid_message', 'bogus'],
        ['workflow.status', { execution_id: `nope-${runId}` }, 'not_found', 'execution_id'],
        ['workflow.history', { execution_id: 'x', limit: 0 }, 'invalid_message', 'limit'],
        ['workflow.cancel', {}, 'invalid_message', 'execution_id'],
        ['workflow.list', { status: 'DONE' }, 'invalid_message', 'status'],
      ];
      const ids = cases.map((_, i) => `wf-bad-${runId}-${i}`);
      for (const [i, [channel, body, code, field]] of cases.entries()) {
        const r = await client.request(channel, body, { messageId: ids[i] });
        const err = r.error as { code: string; field: string; message: string };
        assert.equal(r.ok, false, `${channel} ${JSON.stringify(body)}`);
        assert.deepEqual([err.code, err.field], [code, field], `${channel} ${JSON.stringify(body)}: ${err.message}`);
      }
      await eventually('all parked', async () => ids.every((id) => parked.some((m) => m.messageId === id)));
      await eventually('errors queue settled', async () => queuesSettled([errorsChannel]));
      for (const id of ids) assert.equal(parked.filter((m) => m.messageId === id).length, 1, id);
      // and the agent still serves
      const ok = await client.request('workflow.list', { limit: 1 });
      assert.equal(ok.ok, true);
    } finally {
      await sub.cancel();
      await (client.transport as { deleteChannel?: (c: string) => Promise<void> }).deleteChannel?.(errorsChannel);
    }
  });

  it('workflow.cancel ends a running execution ABORTED; a second cancel is a conflict', async () => {
    const executionName = `cancel-${runId}`;
    const slow = { StartAt: 'Sleep', States: { Sleep: task('sleep 60', null) } };
    await client.request('workflow.start', { definition: slow, execution_name: executionName });
    await eventually('task container running', async () => (await engine.containers.list({ labels, status: ['running'] })).some((c) => c.labels[LABEL.wfExecution] === executionName));
    const r = await client.request('workflow.cancel', { execution_id: executionName, cause: 'not needed' });
    assert.equal(r.ok, true, JSON.stringify(r));
    const ended = await eventually('aborted', async () => {
      const s = resultOf(await client.request('workflow.status', { execution_id: executionName }));
      return s.status === 'ABORTED' ? s : undefined;
    }, 60_000);
    assert.equal(ended.cause, 'not needed');
    const again = await client.request('workflow.cancel', { execution_id: executionName });
    assert.equal((again.error as { code: string }).code, 'conflict');
  });
  it('workflow.pause and workflow.resume: PAUSED, then RUNNING again; pausing a paused one is a conflict', async () => {
    const executionName = `pause-${runId}`;
    await client.request('workflow.start', { definition: { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 600, End: true } } }, execution_name: executionName });
    const status = async (): Promise<string> => String(resultOf(await client.request('workflow.status', { execution_id: executionName })).status);
    await eventually('waiting', async () => (await client.request('workflow.history', { execution_id: executionName })).result !== undefined && (await status()) === 'RUNNING');
    assert.equal((await client.request('workflow.pause', { execution_id: executionName })).ok, true);
    await eventually('paused', async () => (await status()) === 'PAUSED', 30_000);
    const twice = await client.request('workflow.pause', { execution_id: executionName });
    assert.deepEqual([(twice.error as { code: string }).code, (twice.error as { field: string }).field], ['conflict', 'execution_id']);
    assert.equal((await client.request('workflow.resume', { execution_id: executionName })).ok, true);
    await eventually('running again', async () => (await status()) === 'RUNNING', 30_000);
    assert.equal((await client.request('workflow.cancel', { execution_id: executionName })).ok, true);
    await eventually('aborted', async () => (await status()) === 'ABORTED', 30_000);
  });

  it('workflow.redrive: a failed execution runs again from the failed state and its new end gets a reply of its own', async () => {
    const responseChannel = `wf-redrive-${runId}`;
    const out = await client.collect(responseChannel);
    const executionName = `redrive-${runId}`;
    const timesOut = { StartAt: 'Slow', States: { Slow: { ...task('sleep 600', null), TimeoutSeconds: 1 } } };
    await client.request('workflow.start', { definition: timesOut, execution_name: executionName, response_channel: responseChannel });
    await eventually('first end reply', async () => out.messages.length === 1, 60_000);
    assert.deepEqual(out.json()[0]?.result, { execution_id: executionName, status: 'FAILED', error: 'States.Timeout', cause: (out.json()[0]?.result as { cause: string }).cause });
    const r = await client.request('workflow.redrive', { execution_id: executionName });
    assert.equal(r.ok, true, JSON.stringify(r));
    await eventually('second end reply', async () => out.messages.length === 2, 60_000);
    assert.equal((out.json()[1]?.result as { status: string }).status, 'FAILED');
    assert.notEqual(out.messages[1]?.messageId, out.messages[0]?.messageId, 'a new end, a new message id');
    await eventually('reply marked sent', async () => (await agent.workflows!.store.getExecution(executionName))?.endReplySent === true);
    await eventually('queue settled', async () => queuesSettled([responseChannel]));
    assert.equal(out.messages.length, 2);
    const h = resultOf(await client.request('workflow.history', { execution_id: executionName, limit: 1000 }));
    assert.ok((h.events as { type: string }[]).some((e) => e.type === 'ExecutionRedriven'));
    await out.stop();
    await (client.transport as { deleteChannel?: (c: string) => Promise<void> }).deleteChannel?.(responseChannel);
  });
});
