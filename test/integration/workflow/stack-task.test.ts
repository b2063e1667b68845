/**
 * bosun:stack on the real Docker engine, through the durable executor on PGlite: up →
 * run_script → down of a tiny busybox stack with the action's results; failures as
 * bosun.StackFailed / bosun.PolicyDenied / States.Runtime; a script started before its
 * executor went away adopted (the same container); a cancelled script's container removed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SqlWorkflowStore } from '../../../src/adapters/store-sql/workflow-store.js';
import { LABEL } from '../../../src/domain/labels.js';
import { DEFAULT_POLICY } from '../../../src/domain/policy.js';
import { silentLogger } from '../../../src/util/log.js';
import type { Definition } from '../../../src/workflow/definition.js';
import { DurableExecutor } from '../../../src/workflow/durable/executor.js';
import { startExecution } from '../../../src/workflow/durable/start.js';
import { waitForEnd } from '../../helpers/workflow.js';
import { StackTaskRunner } from '../../../src/workflow/durable/stack-task.js';
import { eventually, newRunId, removeTestContainers, TEST_IMAGE, testEngine } from '../../helpers/docker.js';
import { rawDocker } from '../../helpers/raw-docker.js';
import { openTestStore } from './stores.js';

const def = (d: unknown): Definition => d as Definition;

describe('bosun:stack tasks on Docker', () => {
  const engine = testEngine();
  const runId = newRunId();
  const name = `${runId}s`;
  const compose = (extra = '') => `
name: ${name}
services:
  db:
    image: ${TEST_IMAGE}
    command: sleep 3600
    stop_signal: SIGKILL
  tool:
    image: ${TEST_IMAGE}
    command: "true"
    environment: {GREETING: hello}
    depends_on: [db]
${extra}`;
  const stack = (extra = '') => ({ inline: compose(extra) });
  const script = (cmd: string, more: object = {}) => ({ action: 'run_script', stack: stack(), script: { service: 'tool', command_format: ['sh', '-c', cmd], ...more } });
  let store: SqlWorkflowStore;
  let close: () => Promise<void>;
  const runner = () => new StackTaskRunner({ engine, policy: DEFAULT_POLICY, log: silentLogger, labels: { [LABEL.test]: runId } });
  const executor = (owner: string) => new DurableExecutor({ store, owner, runners: { 'bosun:stack': runner() }, pollMs: 50 });
  const mine = () => engine.containers.list({ all: true, labels: { [LABEL.test]: runId } });
  const withToken = async () => (await mine()).filter((c) => c.labels[LABEL.wfToken] !== undefined);

  before(async () => ({ store, close } = await openTestStore('pglite')));
  after(async () => {
    await removeTestContainers(engine, runId);
    const nets = await rawDocker().listNetworks({ filters: JSON.stringify({ label: [`${LABEL.stack}=${name}`] }) });
    for (const n of nets) await engine.networks.remove(n.Id).catch(() => undefined);
    await close();
  });

  test('up → run_script → down: each step is the action\'s result, the script sees the stack, down leaves nothing', async () => {
    const ex = executor('stack-1');
    ex.start();
    try {
      const wf = def({
        StartAt: 'Up',
        States: {
          Up: { Type: 'Task', Resource: 'bosun:stack', Parameters: { action: 'up', stack: stack() }, ResultPath: '$.up', Next: 'Smoke' },
          Smoke: { Type: 'Task', Resource: 'bosun:stack', Parameters: script('echo "$GREETING from tool"; ping -c1 -W2 db >/dev/null && echo db-reachable', { remove_existing_before: true }), ResultPath: '$.smoke', Next: 'Down' },
          Down: { Type: 'Task', Resource: 'bosun:stack', Parameters: { action: 'down', stack: stack() }, ResultPath: '$.down', End: true },
        },
      });
      const { record } = await startExecution(store, { definition: wf, input: {} });
      const done = await waitForEnd(store, record.id);
      assert.equal(done.status, 'SUCCEEDED', `${done.state?.error}: ${done.state?.cause}`);
      const out = done.state?.output as {
        up: { stack: string; action: string; ok: boolean; containers: { service: string; status: string }[] };
        smoke: { id: string; exit_code: number; log: string };
        down: { action: string; ok: boolean };
      };
      assert.equal(out.up.stack, name);
      assert.equal(out.up.action, 'up');
      assert.equal(out.up.ok, true);
      assert.deepEqual(out.up.containers.map((c) => c.service).sort(), ['db', 'tool']);
      assert.equal(out.smoke.exit_code, 0);
      assert.equal(out.smoke.log, 'hello from tool\ndb-reachable\n');
      assert.equal(out.down.action, 'down');
      assert.equal(out.down.ok, true);
      await eventually('the stack and the script container gone', async () => (await mine()).length === 0);
    } finally {
      await ex.stop();
    }
  });

  test('a failing script, a refused service and bad Parameters are the errors a Catch sees', async () => {
    const ex = executor('stack-2');
    ex.start();
    try {
      const caught = (params: object) => def({
        StartAt: 'T',
        States: {
          T: { Type: 'Task', Resource: 'bosun:stack', Parameters: params, Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.err', Next: 'Report' }], End: true },
          Report: { Type: 'Pass', OutputPath: '$.err', End: true },
        },
      });
      const errorOf = async (params: object, input: object = {}) => {
        const { record } = await startExecution(store, { definition: caught(params), input: input as never });
        const done = await waitForEnd(store, record.id);
        // States.Runtime is not caught by States.ALL: the execution fails with it.
        if (done.status === 'FAILED') return { Error: done.state?.error ?? '', Cause: done.state?.cause ?? '' };
        assert.equal(done.status, 'SUCCEEDED');
        return done.state?.output as { Error: string; Cause: string };
      };

      const failed = await errorOf(script('echo broken; exit 3'));
      assert.equal(failed.Error, 'bosun.StackFailed', failed.Cause);
      const cause = JSON.parse(failed.Cause) as { code: string; message: string; result: { exit_code: number; log: string } };
      assert.equal(cause.code, 'nonzero_exit');
      assert.equal(cause.result.exit_code, 3);
      assert.equal(cause.result.log, 'broken\n');

      const refused = await errorOf({ action: 'up', stack: stack('  bad:\n    image: busybox\n    privileged: true\n') });
      assert.equal(refused.Error, 'bosun.PolicyDenied', refused.Cause);
      assert.match(refused.Cause, /privileged/);

      const badAction = await errorOf({ 'action.$': '$.act', stack: stack() }, { act: 'explode' });
      assert.equal(badAction.Error, 'States.Runtime', badAction.Cause);
      assert.match(badAction.Cause, /^bosun:stack Parameters: action: /);

      const noService = await errorOf({ ...script('true'), script: { 'service.$': '$.svc', command_format: 'true' } }, { svc: 'nope' });
      assert.equal(noService.Error, 'States.Runtime', noService.Cause);
      assert.match(noService.Cause, /^bosun:stack Parameters: service: .*nope/);
      await eventually('no script container left', async () => (await withToken()).length === 0);
    } finally {
      await ex.stop();
      await removeTestContainers(engine, runId);
    }
  });

  test('a script started before its executor went away is adopted by the next one: the same container, its output', async () => {
    const first = executor('adopt-1');
    first.start();
    const { record } = await startExecution(store, {
      definition: def({ StartAt: 'S', States: { S: { Type: 'Task', Resource: 'bosun:stack', Parameters: script('sleep 2; echo finished'), End: true } } }),
      input: {},
    });
    const [started] = await eventually('the script container exists', async () => {
      const l = (await withToken()).filter((c) => c.labels[LABEL.wfExecution] === record.id);
      return l.length === 1 ? l : undefined;
    });
    await first.stop(); // detaches: the script goes on running
    const second = executor('adopt-2');
    second.start();
    try {
      const done = await waitForEnd(store, record.id);
      assert.equal(done.status, 'SUCCEEDED', `${done.state?.error}: ${done.state?.cause}`);
      const out = done.state?.output as { id: string; exit_code: number; log: string };
      assert.equal(out.id, started!.id, 'adopted, not started a second time');
      assert.equal(out.log, 'finished\n');
      await eventually('the script container removed once its result is stored', async () => (await withToken()).length === 0);
    } finally {
      await second.stop();
      await removeTestContainers(engine, runId);
    }
  });

  test('a script past the task\'s TimeoutSeconds is cancelled: States.Timeout, and its container is removed', async () => {
    const ex = executor('cancel-1');
    ex.start();
    try {
      const wf = def({ StartAt: 'S', States: { S: { Type: 'Task', Resource: 'bosun:stack', TimeoutSeconds: 2, Parameters: script('sleep 120'), End: true } } });
      const { record } = await startExecution(store, { definition: wf, input: {} });
      await eventually('the script container runs', async () => (await withToken()).some((c) => c.labels[LABEL.wfExecution] === record.id && c.status === 'running'), 30_000);
      const done = await waitForEnd(store, record.id);
      assert.equal(done.status, 'FAILED');
      assert.equal(done.state?.error, 'States.Timeout', String(done.state?.cause));
      await eventually('the cancelled script container removed', async () => (await withToken()).length === 0, 30_000);
    } finally {
      await ex.stop();
      await removeTestContainers(engine, runId);
    }
  });
});
