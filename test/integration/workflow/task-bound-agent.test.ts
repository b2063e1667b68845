/**
 * The per-agent task bound on a real agent and engine: a Map of 6 container tasks with
 * MaxConcurrency 0 on an agent started with workflowMaxTasks 2 never has more than 2 task
 * containers running at once (counted from the engine's own start/die events), /metrics shows
 * tasks waiting while 2 run, and the execution ends SUCCEEDED with every output.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LABEL } from '../../../src/domain/labels.js';
import { startAgentProcess, type AgentProcess } from '../../../src/app/agent-process.js';
import { silentLogger } from '../../../src/util/log.js';
import { AMQP_URL, TestClient, tempDir } from '../../helpers/agent.js';
import { TEST_IMAGE, eventsSince, eventually, newRunId, removeTestContainers, testEngine } from '../../helpers/docker.js';

const engine = testEngine();
const runId = newRunId();
const BOUND = 2;
const ITEMS = 6;
let agent: AgentProcess;
let client: TestClient;

const metric = async (name: string): Promise<number | undefined> => {
  const res = await agent.http!.inject({ method: 'GET', url: '/metrics' });
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(res.body);
  return m ? Number(m[1]) : undefined;
};

describe('workflow task bound on a real agent', () => {
  before(async () => {
    agent = await startAgentProcess({ brokerUrl: AMQP_URL, concurrency: 4, log: silentLogger, stateDir: tempDir('bound'), http: '127.0.0.1:0', workflowMaxTasks: BOUND });
    client = await TestClient.connect();
  });
  after(async () => {
    await client?.close();
    await agent?.stop();
    await removeTestContainers(engine, runId);
  });

  it(`a Map of ${ITEMS} with MaxConcurrency 0 runs at most ${BOUND} task containers at once; /metrics shows the waiting ones`, async () => {
    const since = eventsSince();
    const definition = {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map', MaxConcurrency: 0, End: true,
          ItemProcessor: {
            StartAt: 'Run',
            States: { Run: { Type: 'Task', Resource: 'bosun:run', End: true, Parameters: { image: TEST_IMAGE, pull: 'never', labels: { [LABEL.test]: runId }, 'command.$': "States.Array('sh', '-c', States.Format('sleep 1; echo {}', $.i))" }, OutputPath: '$.json' } },
          },
        },
      },
    };
    const started = await client.request('workflow.start', { definition, input: Array.from({ length: ITEMS }, (_, i) => ({ i })) });
    assert.equal(started.ok, true, JSON.stringify(started));
    const id = String((started.result as { execution_id: string }).execution_id);
    await eventually('2 tasks running and some waiting on /metrics', async () =>
      (await metric('bosun_workflow_tasks_running')) === BOUND && ((await metric('bosun_workflow_tasks_waiting')) ?? 0) > 0 || undefined, 30_000);
    const end = await eventually('the execution ended', async () => {
      const s = await client.request('workflow.status', { execution_id: id });
      const r = s.result as { status: string; output?: unknown } | undefined;
      return r && r.status !== 'RUNNING' ? r : undefined;
    }, 60_000, 250);
    assert.equal(end.status, 'SUCCEEDED', JSON.stringify(end));
    assert.deepEqual(end.output, Array.from({ length: ITEMS }, (_, i) => i));

    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 1000);
    let running = 0;
    let most = 0;
    let starts = 0;
    try {
      for await (const ev of engine.events.stream({ sinceNano: since, resources: ['container'], labels: { [LABEL.test]: runId }, signal: ctl.signal })) {
        if (ev.kind === 'started') { running++; starts++; most = Math.max(most, running); }
        if (ev.kind === 'died') running--;
      }
    } catch (e) {
      if (!ctl.signal.aborted) throw e;
    }
    assert.equal(starts, ITEMS, 'one container per item');
    assert.equal(most, BOUND, `at most ${BOUND} task containers ran at once`);
    assert.equal(await metric('bosun_workflow_tasks_running'), 0);
  });
});
