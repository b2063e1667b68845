/**
 * Callback tasks end to end on the real broker (RabbitMQ, this run's vhost) and a PGlite store:
 * a workflow publishes a request with bosun:publish.waitForTaskToken, the test consumes it and
 * answers on workflow.task_success / task_failure / task_heartbeat through an agent whose
 * registry holds the task-token channels, and a DurableExecutor runs the workflow.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { workflowActions } from '../../../src/actions/workflow/index.js';
import { join } from 'node:path';
import type { SqlWorkflowStore } from '../../../src/adapters/store-sql/workflow-store.js';
import { startAgentProcess, type AgentProcess } from '../../../src/app/agent-process.js';
import { LABEL } from '../../../src/domain/labels.js';
import { DEFAULT_POLICY } from '../../../src/domain/policy/schema.js';
import type { InboundMessage } from '../../../src/ports/transport.js';
import { silentLogger } from '../../../src/util/log.js';
import { loadDefinitionFile, type Definition } from '../../../src/workflow/definition.js';
import { DurableExecutor } from '../../../src/workflow/durable/executor.js';
import { buildTaskRunners } from '../../../src/workflow/durable/runner-set.js';
import { startExecution } from '../../../src/workflow/durable/start.js';
import { waitForEnd } from '../../helpers/workflow.js';
import { reportTask } from '../../../src/workflow/durable/task-reports.js';
import { parseTaskToken } from '../../../src/workflow/task-token.js';
import { AMQP_URL, TestClient, tempDir } from '../../helpers/agent.js';
import { eventually, newRunId, removeTestContainers, TEST_IMAGE, testEngine } from '../../helpers/docker.js';
import { openTestStore } from './stores.js';

const def = (d: unknown): Definition => d as Definition;
type Envelope = { ok: boolean; result?: { execution_id: string; state: string; accepted: boolean }; error?: { code: string; field?: string; message: string } };

/** Asks for approval on `channel`; a rejection (bosun.Rejected) is caught into the output. */
const approval = (channel: string, extra: Record<string, unknown> = {}) => def({
  StartAt: 'Ask',
  States: {
    Ask: {
      Type: 'Task', Resource: 'bosun:publish.waitForTaskToken',
      Parameters: { channel, message: { 'version.$': '$.version', 'task_token.$': '$$.Task.Token' }, headers: { kind: 'approval' } },
      ResultPath: '$.approval',
      Catch: [{ ErrorEquals: ['bosun.Rejected'], ResultPath: '$.rejection', Next: 'Rejected' }],
      Next: 'Done',
      ...extra,
    },
    Done: { Type: 'Pass', End: true },
    Rejected: { Type: 'Pass', Parameters: { 'version.$': '$.version', rejected: true, 'why.$': '$.rejection.Cause' }, End: true },
  },
});

describe('callback tasks: bosun:publish.waitForTaskToken and the task-token channels', () => {
  const runId = newRunId();
  const engine = testEngine();
  const runners = () => buildTaskRunners({ engine, policy: DEFAULT_POLICY, log: silentLogger, transport: agent.transport, labels: { [LABEL.test]: runId } });
  let store: SqlWorkflowStore;
  let closeStore: () => Promise<void>;
  let agent: AgentProcess;
  let ex: DurableExecutor;
  let client: TestClient;
  const errorsChannel = `bosun.errors.cb.${randomUUID().slice(0, 8)}`;
  let parked: Awaited<ReturnType<TestClient['collect']>>;

  before(async () => {
    ({ store, close: closeStore } = await openTestStore('pglite'));
    agent = await startAgentProcess({
      brokerUrl: AMQP_URL, concurrency: 4, log: silentLogger, stateDir: tempDir('cb'), errorsChannel,
      // The test runs its own executor on its own store: the agent's workflow part is off.
      workflows: false, extraActions: workflowActions({ store, kick: () => ex.kick() }),
    });
    ex = new DurableExecutor({
      store, owner: `cb-${randomUUID().slice(0, 8)}`, pollMs: 50,
      runners: runners(),
    });
    ex.start();
    client = await TestClient.connect();
    parked = await client.collect(errorsChannel);
  });
  after(async () => {
    await parked.stop();
    await client.close();
    await ex.stop();
    await agent.stop();
    await closeStore();
    await removeTestContainers(engine, runId);
  });

  /** Starts the workflow and returns the request it published (consumed from its channel). */
  async function startAndReceive(definition: Definition, channel: string, input: unknown = { version: 'v2' }) {
    const inbox = await client.collect(channel);
    const { record } = await startExecution(store, { definition, input: input as never });
    ex.kick();
    const msg = await eventually(`a request on ${channel}`, async () => inbox.messages[0], 30_000);
    await inbox.stop();
    const body = JSON.parse(msg.body.toString('utf8')) as { version: string; task_token: string };
    return { id: record.id, msg, body, token: body.task_token };
  }
  const send = (channel: string, body: unknown) => client.request(channel, body) as Promise<Envelope>;
  const count = async (id: string, type: string) => (await store.history(id)).filter((h) => h.type === type).length;
  const parkedFor = (token: string) => parked.json().filter((r) => JSON.stringify(r).includes(token)).length;

  test('approval: the request carries the token; task_success with it completes the execution with that output', async () => {
    const channel = `approvals.${randomUUID().slice(0, 8)}`;
    const { id, msg, body, token } = await startAndReceive(approval(channel), channel);
    assert.equal(body.version, 'v2');
    assert.equal(parseTaskToken(token)?.executionId, id, 'the token names its execution');
    const m: InboundMessage = msg;
    assert.equal(m.messageId, `wf.${id}.${parseTaskToken(token)!.token}`, 'a message id consumers can dedupe on');
    assert.deepEqual([m.headers.kind, m.headers['bosun-execution-id'], m.headers['bosun-state']], ['approval', id, 'Ask']);
    assert.equal((await store.getExecution(id))?.status, 'RUNNING', 'the state waits for the token');
    await eventually('task dispatched', async () => (await store.openTasks(id))[0]?.status === 'dispatched');

    const reply = await send('workflow.task_success', { task_token: token, output: { approved: true, approver: 'ann' } });
    assert.deepEqual(reply.result, { execution_id: id, state: 'Ask', accepted: true });
    const done = await waitForEnd(store, id);
    assert.equal(done.status, 'SUCCEEDED');
    assert.deepEqual(done.state?.output, { version: 'v2', approval: { approved: true, approver: 'ann' } });

    // The same token again: conflict, nothing changes (one TaskSucceeded in the history).
    const again = await send('workflow.task_success', { task_token: token, output: { approved: false } });
    assert.equal(again.ok, false);
    assert.equal(again.error?.code, 'conflict');
    assert.match(again.error?.message ?? '', /no longer waiting: execution .* already ended SUCCEEDED/);
    assert.equal(await count(id, 'TaskSucceeded'), 1);
    assert.deepEqual((await store.getExecution(id))?.state?.output, done.state?.output);
    await eventually('the refused report parked once', async () => parkedFor(token) === 1);
  });

  test('a second report while the first is still undecided is refused too (the first report wins)', async () => {
    const channel = `approvals.${randomUUID().slice(0, 8)}`;
    await ex.stop(); // nobody decides: both reports meet a waiting task
    let id: string, token: string;
    try {
      const inbox = await client.collect(channel);
      // Published by hand-started executor for one step: start, let it publish, then stop it.
      const once = new DurableExecutor({ store, owner: `once-${randomUUID().slice(0, 8)}`, pollMs: 50, runners: runners() });
      ({ record: { id } } = await startExecution(store, { definition: approval(channel), input: { version: 'v3' } }));
      once.start();
      const msg = await eventually('the request', async () => inbox.messages[0], 30_000);
      token = (JSON.parse(msg.body.toString('utf8')) as { task_token: string }).task_token;
      await eventually('task dispatched', async () => (await store.openTasks(id))[0]?.status === 'dispatched');
      await once.stop();
      await inbox.stop();
      const first = await send('workflow.task_success', { task_token: token, output: { n: 1 } });
      assert.equal(first.ok, true);
      const second = await send('workflow.task_failure', { task_token: token, error: 'bosun.Rejected' });
      assert.deepEqual([second.ok, second.error?.code], [false, 'conflict']);
      assert.match(second.error?.message ?? '', /already reported/);
    } finally {
      ex = new DurableExecutor({ store, owner: `cb-${randomUUID().slice(0, 8)}`, pollMs: 50, runners: runners() });
      ex.start();
    }
    const done = await waitForEnd(store, id);
    assert.deepEqual([done.status, done.state?.output], ['SUCCEEDED', { version: 'v3', approval: { n: 1 } }], 'the first report decided it');
    assert.equal(await count(id, 'TaskFailed'), 0);
  });

  test('a crash after the broker took the request but before the store knew: the resumed task publishes it again, same message id and token', async () => {
    const channel = `approvals.${randomUUID().slice(0, 8)}`;
    const inbox = await client.collect(channel);
    await ex.stop();
    // The first executor's publish reaches the broker, then never returns: as if it died right there.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const stuck = Object.create(agent.transport, {
      publish: { value: async (...a: Parameters<typeof agent.transport.publish>) => { await agent.transport.publish(...a); await gate; } },
    }) as typeof agent.transport;
    const first = new DurableExecutor({ store, owner: `crash-${randomUUID().slice(0, 8)}`, pollMs: 50, runners: buildTaskRunners({ engine, policy: DEFAULT_POLICY, log: silentLogger, transport: stuck }) });
    let id = '';
    try {
      first.start();
      ({ record: { id } } = await startExecution(store, { definition: approval(channel), input: { version: 'v4' } }));
      first.kick();
      await eventually('the first copy', async () => inbox.messages.length === 1, 30_000);
      await first.stop();
      assert.equal((await store.openTasks(id))[0]?.status, 'scheduled', 'the store never heard of the dispatch');
    } finally {
      ex = new DurableExecutor({ store, owner: `cb-${randomUUID().slice(0, 8)}`, pollMs: 50, runners: runners() });
      ex.start();
    }
    await eventually('the second copy', async () => inbox.messages.length === 2, 30_000);
    release();
    const [a, b] = inbox.messages;
    assert.equal(a!.messageId, b!.messageId, 'one message id: consumers can drop the repeat');
    assert.equal(a!.body.toString(), b!.body.toString(), 'the same token in both');
    await eventually('dispatched', async () => (await store.openTasks(id))[0]?.status === 'dispatched');
    const token = (JSON.parse(b!.body.toString()) as { task_token: string }).task_token;
    assert.equal((await send('workflow.task_success', { task_token: token, output: 'ok' })).ok, true);
    assert.equal((await waitForEnd(store, id)).status, 'SUCCEEDED');
    await inbox.stop();
  });

  test('reports racing on one task: exactly one is taken, the others are conflict', async () => {
    const channel = `approvals.${randomUUID().slice(0, 8)}`;
    const { id, token } = await startAndReceive(approval(channel), channel);
    // All five pass the "still waiting" check before any posts: only the report key keeps it to one.
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((n) => reportTask(store, token, { type: 'TaskSucceeded', output: { n } })));
    const taken = results.filter((r) => r.status === 'fulfilled');
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code?: string }).code] : []));
    assert.deepEqual([taken.length, refused], [1, ['conflict', 'conflict', 'conflict', 'conflict']]);
    ex.kick();
    const done = await waitForEnd(store, id);
    assert.equal(done.status, 'SUCCEEDED');
    assert.equal(await count(id, 'TaskSucceeded'), 1);
  });

  test('task_failure is raised in the state: its Catch takes it', async () => {
    const channel = `approvals.${randomUUID().slice(0, 8)}`;
    const { id, token } = await startAndReceive(approval(channel), channel);
    const reply = await send('workflow.task_failure', { task_token: token, error: 'bosun.Rejected', cause: 'not on a Friday' });
    assert.equal(reply.ok, true);
    const done = await waitForEnd(store, id);
    assert.deepEqual([done.status, done.state?.output], ['SUCCEEDED', { version: 'v2', rejected: true, why: 'not on a Friday' }]);
    assert.equal(await count(id, 'CatchTaken'), 1);
  });

  test('task_failure without an error fails the task with States.TaskFailed (uncaught here: the execution fails)', async () => {
    const channel = `approvals.${randomUUID().slice(0, 8)}`;
    const { id, token } = await startAndReceive(approval(channel), channel);
    assert.equal((await send('workflow.task_failure', { task_token: token })).ok, true);
    const done = await waitForEnd(store, id);
    assert.deepEqual([done.status, done.state?.error], ['FAILED', 'States.TaskFailed']);
  });

  test('no heartbeat within HeartbeatSeconds: States.HeartbeatTimeout', async () => {
    const channel = `approvals.${randomUUID().slice(0, 8)}`;
    const { id } = await startAndReceive(approval(channel, { HeartbeatSeconds: 1 }), channel);
    const done = await waitForEnd(store, id);
    assert.deepEqual([done.status, done.state?.error], ['FAILED', 'States.HeartbeatTimeout']);
    assert.equal(await count(id, 'TaskTimedOut'), 1);
  });

  test('heartbeats keep a waiting task alive past its HeartbeatSeconds; then task_success completes it', async () => {
    const channel = `approvals.${randomUUID().slice(0, 8)}`;
    const hb = 3;
    const { id, token } = await startAndReceive(approval(channel, { HeartbeatSeconds: hb }), channel);
    const scheduledAt = (await store.history(id)).find((h) => h.type === 'TaskScheduled')!.at;
    // Each heartbeat waits for its reply, so gaps stay far below HeartbeatSeconds; go on until
    // the task has outlived two heartbeat windows.
    while (Date.now() - scheduledAt < 2 * hb * 1000 + 500) {
      const r = await send('workflow.task_heartbeat', { task_token: token });
      assert.equal(r.ok, true, JSON.stringify(r.error));
      await eventually('the heartbeat decided', async () => (await count(id, 'TaskHeartbeat')) > 0);
    }
    assert.equal((await store.getExecution(id))?.status, 'RUNNING', 'still waiting after two heartbeat windows');
    assert.equal(await count(id, 'TaskTimedOut'), 0);
    assert.equal((await send('workflow.task_success', { task_token: token, output: 'ok' })).ok, true);
    const done = await waitForEnd(store, id);
    assert.deepEqual([done.status, done.state?.output], ['SUCCEEDED', { version: 'v2', approval: 'ok' }]);
    assert.ok((await count(id, 'TaskHeartbeat')) >= 2);
  });

  test('forged, altered and malformed tokens: invalid_task_token naming task_token, parked once; the task still waits', async () => {
    const channel = `approvals.${randomUUID().slice(0, 8)}`;
    const { id, token } = await startAndReceive(approval(channel), channel);
    const p = parseTaskToken(token)!;
    const flipped = `${p.mac[0] === 'A' ? 'B' : 'A'}${p.mac.slice(1)}`;
    const forged = [
      `${p.executionId}.${p.token}.${flipped}`, // one character of the secret
      `${p.executionId}.t999.${p.mac}`, // another task of the execution
      `no-such-execution.${p.token}.${p.mac}`, // an execution that does not exist
      'approve-please', // not a token at all
    ];
    for (const f of forged) {
      const r = await send('workflow.task_success', { task_token: f, output: { approved: true } });
      assert.deepEqual([r.ok, r.error?.code, r.error?.field], [false, 'invalid_task_token', 'task_token'], f);
      await eventually(`${f} parked once`, async () => parkedFor(f) === 1);
    }
    const hb = await send('workflow.task_heartbeat', { task_token: forged[0] });
    assert.equal(hb.error?.code, 'invalid_task_token');
    assert.equal((await store.getExecution(id))?.status, 'RUNNING');
    assert.equal(await count(id, 'TaskSucceeded'), 0);
    assert.equal((await send('workflow.task_success', { task_token: token, output: { approved: true } })).ok, true, 'the real token still works');
    assert.equal((await waitForEnd(store, id)).status, 'SUCCEEDED');
  });

  test('bad report bodies: invalid_message naming the field', async () => {
    const missing = await send('workflow.task_success', { task_token: 'x.t1.y' });
    assert.deepEqual([missing.error?.code, missing.error?.field], ['invalid_message', 'output']);
    const unknown = await send('workflow.task_failure', { task_token: 'x.t1.y', reason: 'typo' });
    assert.deepEqual([unknown.error?.code, unknown.error?.field], ['invalid_message', 'reason']);
    const wrongType = await send('workflow.task_heartbeat', { task_token: 7 });
    assert.deepEqual([wrongType.error?.code, wrongType.error?.field], ['invalid_message', 'task_token']);
  });

  test('plain bosun:publish publishes once and succeeds with {channel, published: true}', async () => {
    const channel = `notices.${randomUUID().slice(0, 8)}`;
    const inbox = await client.collect(channel);
    const { record } = await startExecution(store, {
      definition: def({ StartAt: 'Tell', States: { Tell: { Type: 'Task', Resource: 'bosun:publish', Parameters: { channel, 'message.$': '$' }, End: true } } }),
      input: { deployed: 'v2' },
    });
    ex.kick();
    const done = await waitForEnd(store, record.id);
    assert.deepEqual([done.status, done.state?.output], ['SUCCEEDED', { channel, published: true }]);
    await eventually('the notice', async () => inbox.messages.length === 1);
    assert.deepEqual(inbox.json(), [{ deployed: 'v2' }]);
    await inbox.stop();
  });

  test('bad publish Parameters and a wait without the token in the message: States.Runtime naming the field', async () => {
    const bad = await startExecution(store, {
      definition: def({ StartAt: 'Tell', States: { Tell: { Type: 'Task', Resource: 'bosun:publish', Parameters: { channel: 'x', mesage: 1 }, End: true } } }), input: {},
    });
    const noToken = await startExecution(store, {
      definition: def({ StartAt: 'Ask', States: { Ask: { Type: 'Task', Resource: 'bosun:publish.waitForTaskToken', Parameters: { channel: 'x', message: { q: 'ok?' } }, End: true } } }), input: {},
    });
    ex.kick();
    const a = await waitForEnd(store, bad.record.id);
    assert.deepEqual([a.status, a.state?.error], ['FAILED', 'States.Runtime']);
    assert.match(a.state?.cause ?? '', /bosun:publish Parameters: .*message: expected the message to publish.*mesage: unknown field/);
    const b = await waitForEnd(store, noToken.record.id);
    assert.deepEqual([b.status, b.state?.error], ['FAILED', 'States.Runtime']);
    assert.match(b.state?.cause ?? '', /message: expected the task token/);
  });

  test('examples/workflows/approval.yaml as written (with the test image): approved → deployed by a container; rejected → bosun.Rejected', async () => {
    const example = loadDefinitionFile(join(import.meta.dirname, '../../../examples/workflows/approval.yaml'));
    const deploy = (example.States as Record<string, { Parameters: Record<string, unknown> }>).Deploy!;
    Object.assign(deploy.Parameters, { image: TEST_IMAGE, pull: 'never' });
    const ok = await startAndReceive(example, 'approvals', { version: 'v7' });
    assert.equal((ok.body as unknown as { question: string }).question, 'Deploy this version?');
    assert.equal((await send('workflow.task_success', { task_token: ok.token, output: { approved: true, approver: 'ann' } })).ok, true);
    const deployed = await waitForEnd(store, ok.id);
    assert.deepEqual([deployed.status, deployed.state?.output], ['SUCCEEDED', { deployed: 'v7', approved_by: 'ann' }]);
    await eventually('the deploy container removed', async () => (await engine.containers.list({ all: true, labels: { [LABEL.wfExecution]: ok.id } })).length === 0);

    const no = await startAndReceive(example, 'approvals', { version: 'v8' });
    assert.equal((await send('workflow.task_failure', { task_token: no.token, error: 'bosun.Rejected', cause: 'not on a Friday' })).ok, true);
    const rejected = await waitForEnd(store, no.id);
    assert.deepEqual([rejected.status, rejected.state?.error, rejected.state?.cause], ['FAILED', 'bosun.Rejected', 'not on a Friday']);
  });
});
