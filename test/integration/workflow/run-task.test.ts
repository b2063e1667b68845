/**
 * bosun:run on the real Docker engine, through the durable executor on PGlite: the state's
 * input in BOSUN_INPUT, the result {exit_code, stdout, stderr, json}, bosun's error names
 * caught by Catch, and a run started before its executor went away adopted by the next one
 * (one container for the task, never two).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SqlWorkflowStore } from '../../../src/adapters/store-sql/workflow-store.js';
import { LABEL } from '../../../src/domain/labels.js';
import { DEFAULT_POLICY } from '../../../src/domain/policy.js';
import { silentLogger } from '../../../src/util/log.js';
import type { Definition } from '../../../src/workflow/definition.js';
import { DurableExecutor } from '../../../src/workflow/durable/executor.js';
import { RunTaskRunner } from '../../../src/workflow/durable/run-task.js';
import { startExecution } from '../../../src/workflow/durable/start.js';
import { waitForEnd } from '../../helpers/workflow.js';
import { eventually, newRunId, removeTestContainers, TEST_IMAGE, testEngine } from '../../helpers/docker.js';
import { openTestStore } from './stores.js';

const def = (d: unknown): Definition => d as Definition;
const sh = (script: string): { image: string; command: string[]; pull: string } => ({ image: TEST_IMAGE, command: ['sh', '-c', script], pull: 'never' });

describe('bosun:run tasks on Docker', () => {
  const engine = testEngine();
  const runId = newRunId();
  let store: SqlWorkflowStore;
  let close: () => Promise<void>;
  const runner = (remove = true) => new RunTaskRunner({ engine, policy: DEFAULT_POLICY, log: silentLogger, labels: { [LABEL.test]: runId }, remove });
  before(async () => ({ store, close } = await openTestStore('pglite')));
  after(async () => {
    await removeTestContainers(engine, runId);
    await close();
  });

  test('a chain: the input arrives in BOSUN_INPUT, stdout JSON is the result, the next run gets it', async () => {
    const ex = new DurableExecutor({ store, owner: 'run-1', runners: { 'bosun:run': runner() }, pollMs: 50 });
    ex.start();
    try {
      const chain = def({
        StartAt: 'Echo',
        States: {
          Echo: { Type: 'Task', Resource: 'bosun:run', Parameters: sh('echo "$BOSUN_INPUT"'), ResultSelector: { 'got.$': '$.json', 'code.$': '$.exit_code' }, ResultPath: '$.echo', Next: 'Next' },
          Next: { Type: 'Task', Resource: 'bosun:run', InputPath: '$.echo.got', Parameters: sh('echo "{\\"second\\": $BOSUN_INPUT}"; echo warn >&2'), End: true },
        },
      });
      const { record } = await startExecution(store, { definition: chain, input: { n: 7 } });
      const done = await waitForEnd(store, record.id);
      assert.equal(done.status, 'SUCCEEDED', `${done.state?.error}: ${done.state?.cause}`);
      assert.deepEqual(done.state?.output, { exit_code: 0, stdout: '{"second": {"n":7}}\n', stderr: 'warn\n', json: { second: { n: 7 } } });
      await eventually('task containers removed', async () => (await engine.containers.list({ all: true, labels: { [LABEL.wfExecution]: record.id } })).length === 0);
    } finally {
      await ex.stop();
    }
  });

  test('the state\'s input is on stdin too (closed after it): cat echoes it; Parameters.stdin replaces it', async () => {
    const ex = new DurableExecutor({ store, owner: 'run-stdin', runners: { 'bosun:run': runner() }, pollMs: 50 });
    ex.start();
    try {
      const wf = def({
        StartAt: 'Cat',
        States: {
          Cat: { Type: 'Task', Resource: 'bosun:run', Parameters: { image: TEST_IMAGE, command: ['cat'], pull: 'never' }, ResultSelector: { 'json.$': '$.json' }, ResultPath: '$.cat', Next: 'Given' },
          Given: { Type: 'Task', Resource: 'bosun:run', Parameters: { image: TEST_IMAGE, command: ['cat'], pull: 'never', 'stdin.$': '$.text' }, ResultSelector: { 'out.$': '$.stdout' }, ResultPath: '$.given', End: true },
        },
      });
      const { record } = await startExecution(store, { definition: wf, input: { text: 'plain words', n: [1, 2] } });
      const done = await waitForEnd(store, record.id);
      assert.equal(done.status, 'SUCCEEDED', `${done.state?.error}: ${done.state?.cause}`);
      assert.deepEqual(done.state?.output, { text: 'plain words', n: [1, 2], cat: { json: { text: 'plain words', n: [1, 2] } }, given: { out: 'plain words' } });
    } finally {
      await ex.stop();
    }
  });

  test('a run past its timeout fails with States.Timeout, and its stopped container is removed too', async () => {
    const ex = new DurableExecutor({ store, owner: 'run-t', runners: { 'bosun:run': runner() }, pollMs: 50 });
    ex.start();
    try {
      const slow = def({ StartAt: 'Slow', States: { Slow: { Type: 'Task', Resource: 'bosun:run', Parameters: { ...sh('sleep 60'), timeout: 1 }, End: true } } });
      const { record } = await startExecution(store, { definition: slow, input: {} });
      const done = await waitForEnd(store, record.id);
      assert.equal(done.status, 'FAILED');
      assert.equal(done.state?.error, 'States.Timeout', String(done.state?.cause));
      await eventually('timed-out task container removed', async () => (await engine.containers.list({ all: true, labels: { [LABEL.wfExecution]: record.id } })).length === 0);
    } finally {
      await ex.stop();
    }
  });

  test('a non-zero exit, a missing image and a policy refusal are bosun errors a Catch sees', async () => {
    const ex = new DurableExecutor({ store, owner: 'run-2', runners: { 'bosun:run': runner() }, pollMs: 50 });
    ex.start();
    try {
      const caught = (params: object) => def({
        StartAt: 'T',
        States: {
          T: { Type: 'Task', Resource: 'bosun:run', Parameters: params, Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.err', Next: 'Report' }], End: true },
          Report: { Type: 'Pass', OutputPath: '$.err', End: true },
        },
      });
      const cases: [object, string][] = [
        [sh('echo broken >&2; exit 3'), 'bosun.NonZeroExit'],
        [{ image: 'bosun-no-such-image:none', pull: 'never' }, 'bosun.ImageNotFound'],
        [{ ...sh('true'), privileged: true }, 'bosun.PolicyDenied'],
      ];
      for (const [params, error] of cases) {
        const { record } = await startExecution(store, { definition: caught(params), input: {} });
        const done = await waitForEnd(store, record.id);
        assert.equal(done.status, 'SUCCEEDED');
        const err = done.state?.output as { Error: string; Cause: string };
        assert.equal(err.Error, error, err.Cause);
        if (error === 'bosun.NonZeroExit') assert.deepEqual(JSON.parse(err.Cause), { exit_code: 3, stderr: 'broken\n' });
      }
    } finally {
      await ex.stop();
    }
  });

  test('a run started before its executor went away is adopted by the next one: one container, right output', async () => {
    const first = new DurableExecutor({ store, owner: 'adopt-1', runners: { 'bosun:run': runner(false) }, pollMs: 50 });
    first.start();
    const { record } = await startExecution(store, {
      definition: def({ StartAt: 'Slow', States: { Slow: { Type: 'Task', Resource: 'bosun:run', Parameters: sh('sleep 1; echo "{\\"done\\": true}"'), OutputPath: '$.json', End: true } } }),
      input: {},
    });
    const mine = () => engine.containers.list({ all: true, labels: { [LABEL.wfExecution]: record.id } });
    await eventually('the task container exists', async () => (await mine()).length === 1);
    await first.stop(); // detaches: the container goes on running
    const second = new DurableExecutor({ store, owner: 'adopt-2', runners: { 'bosun:run': runner(false) }, pollMs: 50 });
    second.start();
    try {
      const done = await waitForEnd(store, record.id);
      assert.equal(done.status, 'SUCCEEDED', `${done.state?.error}: ${done.state?.cause}`);
      assert.deepEqual(done.state?.output, { done: true });
      const containers = await mine();
      assert.equal(containers.length, 1, 'adopted, not started a second time');
      assert.equal(containers[0]!.labels[LABEL.wfState], 'Slow');
      assert.equal(containers[0]!.labels[LABEL.wfAttempt], '1');
    } finally {
      await second.stop();
    }
  });
});
