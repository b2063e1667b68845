/**
 * bosun:service against a real `bosun server` (embedded store, the real broker) with one
 * `bosun node` on an extra Docker engine: a spec creates a service and `wait` returns once its
 * replica runs (seen on the engine too), replicas scale it up and down; a missing service, a
 * refused request, a wrong token and an unreachable server are bosun's errors, and Retry on
 * bosun.ClusterUnavailable carries a task over until the server answers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SqlWorkflowStore } from '../../../src/adapters/store-sql/workflow-store.js';
import { LABEL } from '../../../src/domain/labels.js';
import type { Definition } from '../../../src/workflow/definition.js';
import { DurableExecutor } from '../../../src/workflow/durable/executor.js';
import { ServiceTaskRunner } from '../../../src/workflow/durable/service-task.js';
import { startExecution } from '../../../src/workflow/durable/start.js';
import { waitForEnd } from '../../helpers/workflow.js';
import type { Json } from '../../../src/workflow/json.js';
import { eventually, newRunId, TEST_IMAGE, childBound } from '../../helpers/docker.js';
import { removeEngineDirs } from '../../helpers/engines.js';
import { Cluster, sum } from '../cluster/harness.js';
import { openTestStore } from './stores.js';

const def = (d: unknown): Definition => d as Definition;
const runId = newRunId();
const dir = join(tmpdir(), `bosun-wf-service-${runId}`);
const PORT = 16_100 + Math.floor(Math.random() * 400);
const LATE_PORT = PORT + 500;

describe('bosun:service tasks against a real cluster server', () => {
  let cluster: Cluster;
  let url: string;
  let store: SqlWorkflowStore;
  let close: () => Promise<void>;
  const container = { name: 'web', image: TEST_IMAGE, cmd: ['sleep', '3600'], labels: { [LABEL.test]: runId } };
  const svc = `${runId}-web`;

  /** Runs a one-task workflow (Catch-all → its error as output) with a runner for `cluster`. */
  async function runTask(params: Json, clusterAt: { url: string; token?: string } | undefined, extra: object = {}) {
    const runner = new ServiceTaskRunner({ ...(clusterAt ? { cluster: clusterAt } : {}), pollMs: 200 });
    const ex = new DurableExecutor({ store, owner: `svc-${Math.random()}`, runners: { 'bosun:service': runner }, pollMs: 50 });
    ex.start();
    try {
      const wf = def({
        StartAt: 'T',
        States: {
          T: { Type: 'Task', Resource: 'bosun:service', Parameters: params, ...extra, Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.err', Next: 'Caught' }], End: true },
          Caught: { Type: 'Pass', OutputPath: '$.err', End: true },
        },
      });
      const { record } = await startExecution(store, { definition: wf, input: {} });
      return { record, done: await waitForEnd(store, record.id) };
    } finally {
      await ex.stop();
    }
  }

  before(async () => {
    ({ store, close } = await openTestStore('pglite'));
    mkdirSync(dir, { recursive: true });
    cluster = new Cluster(dir, runId, 'memory:');
    url = cluster.startServer('s1', PORT);
    await cluster.addNode('n1', 0);
    // Not cluster.waitApi: its 30 s are too few for a server's start on a loaded machine.
    await eventually('server s1 API', async () => (await cluster.api('s1', 'GET', '/healthz')).status === 200, 180_000, 250);
    await eventually('the node is ready', async () => (await cluster.api<{ nodes: { status: string }[] }>('s1', 'GET', '/nodes')).json.nodes.some((n) => n.status === 'ready'), 60_000, 200);
  });
  after(async () => {
    await cluster?.stopAll();
    removeEngineDirs(dir);
    await close();
  });

  test('no cluster configured: States.Runtime saying so', async () => {
    const { done } = await runTask({ service: svc, replicas: 1 }, undefined);
    assert.equal(done.status, 'FAILED', 'States.Runtime is not caught by States.ALL');
    assert.equal(done.state?.error, 'States.Runtime');
    assert.match(String(done.state?.cause), /no cluster server is configured/);
  });

  test('a spec creates the service and wait returns once its replica runs; replicas scale it up and down', async () => {
    const auth = { url, token: cluster.token };
    const created = await runTask({ service: svc, spec: { replicas: 1, container }, wait: true }, auth);
    assert.equal(created.done.status, 'SUCCEEDED', JSON.stringify(created.done.state));
    const c = created.done.state?.output as { service: string; replicas: number; running: number; created: boolean; changed: boolean; assignments: { node: string; state: string }[] };
    assert.deepEqual({ service: c.service, replicas: c.replicas, running: c.running, created: c.created, changed: c.changed }, { service: svc, replicas: 1, running: 1, created: true, changed: true });
    assert.deepEqual(c.assignments.map((a) => a.state), ['running']);
    assert.equal(sum(await cluster.running(svc)), 1, 'the engine runs it too');

    const up = await runTask({ service: svc, replicas: 2, wait: true }, auth);
    assert.equal(up.done.status, 'SUCCEEDED', JSON.stringify(up.done.state));
    assert.equal((up.done.state?.output as { running: number }).running, 2);
    assert.equal(sum(await cluster.running(svc)), 2);

    const same = await runTask({ service: svc, replicas: 2 }, auth);
    assert.equal((same.done.state?.output as { changed: boolean }).changed, false, 'the same replicas again: no PUT');

    const down = await runTask({ service: svc, replicas: 0, wait: true }, auth);
    assert.equal(down.done.status, 'SUCCEEDED', JSON.stringify(down.done.state));
    assert.equal((down.done.state?.output as { running: number }).running, 0);
    await eventually('the replicas are gone from the engine', async () => sum(await cluster.running(svc)) === 0, 30_000, 200);
  });

  test('a missing service, a refused spec, a wrong token and no server are bosun errors a Catch sees', async () => {
    const errorOf = async (params: Json, at: { url: string; token?: string }) => {
      const { done } = await runTask(params, at);
      assert.equal(done.status, 'SUCCEEDED', JSON.stringify(done.state));
      return done.state?.output as { Error: string; Cause: string };
    };
    const auth = { url, token: cluster.token };
    const missing = await errorOf({ service: `${runId}-none`, replicas: 2 }, auth);
    assert.equal(missing.Error, 'bosun.ServiceNotFound', missing.Cause);
    assert.match(missing.Cause, new RegExp(`${runId}-none`));
    const tooMany = await errorOf({ service: `${runId}-big`, spec: { replicas: 1000, container } }, auth);
    assert.equal(tooMany.Error, 'bosun.ClusterRefused', tooMany.Cause);
    assert.match(tooMany.Cause, /400 invalid_message: .*replicas/);
    const wrongToken = await errorOf({ service: svc, replicas: 1 }, { url, token: 'not-the-token-at-all' });
    assert.equal(wrongToken.Error, 'bosun.ClusterRefused', wrongToken.Cause);
    assert.match(wrongToken.Cause, /401 policy_denied: .*bearer token/);
    const nobody = await errorOf({ service: svc, replicas: 1 }, { url: `http://127.0.0.1:${LATE_PORT + 1}`, token: cluster.token });
    assert.equal(nobody.Error, 'bosun.ClusterUnavailable', nobody.Cause);
    assert.match(nobody.Cause, /no answer \(ECONNREFUSED\)/);
  });

  test('`bosun workflow run` takes the cluster from BOSUN_CLUSTER_URL and --cluster-token-file', async () => {
    const file = join(dir, 'service.json');
    writeFileSync(file, JSON.stringify({ StartAt: 'T', States: { T: { Type: 'Task', Resource: 'bosun:service', Parameters: { service: `${runId}-cli`, spec: { replicas: 0, container } }, End: true } } }));
    const tokenFile = join(dir, 'api.token');
    writeFileSync(tokenFile, `${cluster.token}\n`, { mode: 0o600 });
    const cli = join(import.meta.dirname, '../../../src/app/cli.ts');
    const proc = spawn(process.execPath, ['--import', 'tsx', cli, 'workflow', 'run', file, '--quiet', '--cluster-token-file', tokenFile], { env: { ...process.env, BOSUN_CLUSTER_URL: url }, stdio: ['ignore', 'pipe', 'pipe'], ...childBound() });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => proc.once('exit', r));
    assert.equal(code, 0, `${stdout}${stderr}`);
    const out = JSON.parse(stdout) as { service: string; created: boolean; replicas: number };
    assert.deepEqual({ service: out.service, created: out.created, replicas: out.replicas }, { service: `${runId}-cli`, created: true, replicas: 0 });
  });

  test('Retry on bosun.ClusterUnavailable: the task fails while no server answers and succeeds once one does', async () => {
    const late = { url: `http://127.0.0.1:${LATE_PORT}`, token: cluster.token };
    const retry = { Retry: [{ ErrorEquals: ['bosun.ClusterUnavailable'], IntervalSeconds: 1, BackoffRate: 1, MaxAttempts: 1000 }] };
    const runner = new ServiceTaskRunner({ cluster: late, pollMs: 200 });
    const ex = new DurableExecutor({ store, owner: 'svc-retry', runners: { 'bosun:service': runner }, pollMs: 50 });
    ex.start();
    try {
      const wf = def({ StartAt: 'T', States: { T: { Type: 'Task', Resource: 'bosun:service', Parameters: { service: `${runId}-late`, spec: { replicas: 0, container } }, ...retry, End: true } } });
      const { record } = await startExecution(store, { definition: wf, input: {} });
      await eventually('a first try failed with bosun.ClusterUnavailable', async () => (await store.history(record.id)).some((h) => h.type === 'TaskFailed' && JSON.stringify(h).includes('bosun.ClusterUnavailable')), 30_000);
      cluster.startServer('late', LATE_PORT);
      const done = await waitForEnd(store, record.id);
      assert.equal(done.status, 'SUCCEEDED', JSON.stringify(done.state));
      assert.equal((done.state?.output as { created: boolean }).created, true);
    } finally {
      await ex.stop();
    }
  });
});
