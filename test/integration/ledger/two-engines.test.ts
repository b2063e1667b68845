/**
 * Two durable executors on one PostgreSQL store, each with its own engine: Docker and Podman.
 * The Docker one is SIGKILLed while a task container runs. The Podman one takes the execution
 * over only after the first one's lease expired (asserted from the store: the lease's end and
 * the history), and does not start that task again — it cannot see the container on Docker —
 * so the task fails with bosun.TaskLost, and the definition's Retry runs it anew as attempt 2.
 * No task attempt has two containers, on either engine.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { openRunLedger, type SqlRunLedger } from '../../../src/adapters/store-sql/run-ledger.js';
import { openWorkflowStore, type SqlWorkflowStore } from '../../../src/adapters/store-sql/workflow-store.js';
import { LABEL } from '../../../src/domain/labels.js';
import type { ContainerEngine } from '../../../src/ports/engine.js';
import { startExecution } from '../../../src/workflow/durable/start.js';
import { waitForEnd } from '../../helpers/workflow.js';
import { TASK_LOST } from '../../../src/workflow/durable/task-ledger.js';
import type { Definition } from '../../../src/workflow/definition.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine } from '../../helpers/docker.js';
import { PODMAN_HOST, podmanEngine } from '../../helpers/engines.js';
import { storeLocation } from '../workflow/stores.js';

const runId = newRunId();
const labels = { [LABEL.test]: runId };
const LEASE_MS = 4000;
const repoRoot = join(import.meta.dirname, '..', '..', '..');

const definition = {
  StartAt: 'Slow',
  States: {
    Slow: {
      Type: 'Task', Resource: 'bosun:run',
      Parameters: { image: TEST_IMAGE, pull: 'never', command: ['sh', '-c', 'sleep 6; echo "{\\"done\\": true}"'] },
      OutputPath: '$.json',
      Retry: [{ ErrorEquals: [TASK_LOST], IntervalSeconds: 1, MaxAttempts: 1 }],
      End: true,
    },
  },
} as unknown as Definition;

function startExecutor(owner: string, store: string, kind: 'docker' | 'podman', host: string): Promise<{ child: ChildProcess; out: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/integration/ledger/wf-executor-process.ts')], {
    cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WF_STORE: store, WF_ENGINE_KIND: kind, WF_ENGINE_HOST: host, WF_OWNER: owner, WF_LEASE_MS: String(LEASE_MS), WF_LABELS: JSON.stringify(labels) },
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`executor ${owner} did not start: ${out}`)), 120_000);
    const check = setInterval(() => {
      if (!out.includes(`ready ${owner}`)) return;
      clearInterval(check);
      clearTimeout(t);
      resolve({ child, out: () => out });
    }, 50);
    child.once('exit', (code) => {
      clearInterval(check);
      clearTimeout(t);
      reject(new Error(`executor ${owner} exited with ${code}: ${out}`));
    });
  });
}

async function killed(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

describe('two executors, two engines, one PostgreSQL store', () => {
  let store: SqlWorkflowStore;
  let ledger: SqlRunLedger;
  let url: string;
  let drop: () => Promise<void>;
  let docker: ContainerEngine;
  let podman: ContainerEngine;
  const children: ChildProcess[] = [];

  before(async () => {
    ({ url, drop } = await storeLocation('postgres'));
    store = await openWorkflowStore(url);
    ledger = await openRunLedger(url);
    docker = testEngine();
    podman = await podmanEngine();
  });
  after(async () => {
    for (const c of children) await killed(c);
    await store.close();
    await ledger.close();
    await drop();
    await removeTestContainers(docker, runId);
    await removeTestContainers(podman, runId);
  });

  it('the second takes over only after the lease, and never runs the first one\'s task again', async () => {
    const { record } = await startExecution(store, { definition, input: {}, executionName: `two-engines-${runId}` });
    const id = record.id;
    const a = await startExecutor('exec-docker', url, 'docker', process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock');
    children.push(a.child);
    const onDocker = (all = true) => docker.containers.list({ all, labels: { [LABEL.wfExecution]: id } });
    const first = await eventually('the task runs on Docker', async () => (await onDocker(false))[0], 90_000);
    const token = first.labels[LABEL.wfToken]!;
    const taskKey = { channel: 'workflow.task', publisher: '', requestId: `${id}/${token}` };
    const started = await ledger.get(taskKey);
    assert.equal(started?.holder?.startsWith('exec-docker@'), true, 'the task start is recorded before the container runs');
    await killed(a.child);
    const held = await store.getExecution(id);
    assert.equal(held?.leaseOwner, 'exec-docker');
    const leaseEnd = held!.leaseUntil!;

    const b = await startExecutor('exec-podman', url, 'podman', PODMAN_HOST);
    children.push(b.child);
    const end = await waitForEnd(store, id, { pollMs: 100 });
    assert.equal(end.status, 'SUCCEEDED', b.out());

    // The takeover came after the lease: the first thing decided after the kill is the lost task, stamped after the lease's end.
    const history = await store.history(id);
    const lost = history.find((h) => h.type === 'TaskFailed');
    assert.equal(lost?.event.error, TASK_LOST);
    assert.ok(lost!.at >= leaseEnd, `decided at ${lost!.at}, lease ended ${leaseEnd}`);
    const retry = history.find((h) => h.type === 'RetryScheduled');
    assert.equal(retry?.event.error, TASK_LOST, JSON.stringify(history.map((h) => h.type)));
    assert.ok(end.fence > held!.fence, 'claimed again, with a new fence');

    const task = await ledger.get(taskKey);
    assert.deepEqual([task?.attempt, task?.holder?.startsWith('exec-podman@'), task?.status], [2, true, 'done']);

    // One container per task attempt: the first (token of attempt 1) on Docker only, the retry on Podman only.
    const dockerTokens = (await onDocker()).map((c) => c.labels[LABEL.wfToken]);
    const podmanTokens = (await podman.containers.list({ all: true, labels: { [LABEL.wfExecution]: id } })).map((c) => c.labels[LABEL.wfToken]);
    assert.deepEqual(dockerTokens, [token]);
    assert.equal(podmanTokens.length, 1);
    assert.notEqual(podmanTokens[0], token);
  });
});
