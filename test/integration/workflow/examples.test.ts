/**
 * The example workflows run on the real engine through the durable executor, as files (only
 * the image swapped for the local test image, and stack names made unique to the run):
 * the test routine whose failure is caught and reported, the Map over seed 000's sites (each
 * served from its own directory, at most 2 deployed at once, a second run changing nothing),
 * and a stack's up → smoke test → down, passing and failing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SqlWorkflowStore } from '../../../src/adapters/store-sql/workflow-store.js';
import { LABEL } from '../../../src/domain/labels.js';
import { DEFAULT_POLICY } from '../../../src/domain/policy.js';
import { silentLogger } from '../../../src/util/log.js';
import { parseDefinition } from '../../../src/workflow/definition.js';
import { DurableExecutor } from '../../../src/workflow/durable/executor.js';
import { buildTaskRunners } from '../../../src/workflow/durable/runner-set.js';
import { startExecution } from '../../../src/workflow/durable/start.js';
import { waitForEnd } from '../../helpers/workflow.js';
import type { Json } from '../../../src/workflow/json.js';
import { bosunTestDir, removeBosunTestDir } from '../../helpers/bosun-root.js';
import { eventually, newRunId, removeTestContainers, TEST_IMAGE, testEngine } from '../../helpers/docker.js';
import { rawDocker } from '../../helpers/raw-docker.js';
import { openTestStore } from './stores.js';

const EXAMPLES = join(import.meta.dirname, '../../../examples/workflows');

describe('example workflows on Docker', () => {
  const engine = testEngine();
  const runId = newRunId();
  const stacks = new Set<string>();
  const dirs: string[] = [];
  let store: SqlWorkflowStore;
  let close: () => Promise<void>;
  let ex: DurableExecutor;

  /** The example file as a definition, with `edits` applied to its text. */
  const example = (file: string, edits: [string, string][] = []) =>
    parseDefinition(edits.reduce((t, [a, b]) => t.replaceAll(a, b), readFileSync(join(EXAMPLES, file), 'utf8').replaceAll('busybox:latest', TEST_IMAGE)), file);
  const run = async (file: string, input: Json, edits: [string, string][] = []) => {
    const { record } = await startExecution(store, { definition: example(file, edits), input });
    return { id: record.id, done: await waitForEnd(store, record.id) };
  };
  const stackContainers = (name: string) => engine.containers.list({ all: true, labels: { [LABEL.stack]: name } });

  before(async () => {
    ({ store, close } = await openTestStore('pglite'));
    const runners = buildTaskRunners({ engine, policy: DEFAULT_POLICY, log: silentLogger, labels: { [LABEL.test]: runId } });
    ex = new DurableExecutor({ store, owner: 'examples', runners, pollMs: 50 });
    ex.start();
  });
  after(async () => {
    await ex.stop();
    await removeTestContainers(engine, runId);
    for (const s of stacks) {
      const nets = await rawDocker().listNetworks({ filters: JSON.stringify({ label: [`${LABEL.stack}=${s}`] }) });
      for (const n of nets) await engine.networks.remove(n.Id).catch(() => undefined);
    }
    for (const d of dirs) removeBosunTestDir(d);
    await close();
  });

  test('test-routine: the failing test is caught and reported with its exit code and stderr', async () => {
    const { done } = await run('test-routine.yaml', {});
    assert.equal(done.status, 'SUCCEEDED', `${done.state?.error}: ${done.state?.cause}`);
    assert.deepEqual(done.state?.output, { status: 'failed', details: { exit_code: 1, stderr: '1 test failed\n' } });
  });

  test('sites: a Map deploys each site from its own directory, at most 2 at once; a second run changes nothing', async () => {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    const sites = [1, 2, 3].map((i) => {
      const root = bosunTestDir('site');
      dirs.push(root);
      cpSync(join(EXAMPLES, 'sites', `nginx-site-${i}`), root, { recursive: true });
      const name = `${runId}-nginx-site-${i}`;
      stacks.add(name);
      return { name, root, port: base + i };
    });
    const first = await run('sites.yaml', { sites });
    assert.equal(first.done.status, 'SUCCEEDED', `${first.done.state?.error}: ${first.done.state?.cause}`);
    const deployed = first.done.state?.output as { site: string; ok: boolean; changed: number }[];
    assert.deepEqual(deployed.map((d) => [d.site, d.ok]), sites.map((s) => [s.name, true]));
    assert.ok(deployed.every((d) => d.changed >= 1), JSON.stringify(deployed));
    for (const [i, s] of sites.entries()) {
      const body = await eventually(`${s.name} serves its own index`, async () => {
        const r = await fetch(`http://127.0.0.1:${s.port}/`).catch(() => undefined);
        return r?.ok ? r.text() : undefined;
      }, 30_000, 200);
      assert.equal(body, `<h1>nginx-site-${i + 1}</h1>\n`);
    }
    // MaxConcurrency 2, read from the history: never more than 2 site tasks open at once.
    let open = 0;
    let most = 0;
    for (const h of await store.history(first.id)) {
      if (h.type === 'TaskScheduled') most = Math.max(most, ++open);
      else if (h.type === 'TaskSucceeded' || h.type === 'TaskFailed') open--;
    }
    assert.equal(most, 2);
    const again = await run('sites.yaml', { sites });
    assert.equal(again.done.status, 'SUCCEEDED', `${again.done.state?.error}: ${again.done.state?.cause}`);
    assert.deepEqual((again.done.state?.output as { changed: number }[]).map((d) => d.changed), [0, 0, 0], 'up is convergent');
  });

  test('stack-smoke: up → smoke test → down passes and leaves nothing; a failing smoke test still takes the stack down', async () => {
    const name = `${runId}-smoke`;
    stacks.add(name);
    const ok = await run('stack-smoke.yaml', {}, [['smoke-demo', name]]);
    assert.equal(ok.done.status, 'SUCCEEDED', `${ok.done.state?.error}: ${ok.done.state?.cause}`);
    const out = ok.done.state?.output as { status: string; smoke: string; removed: number };
    assert.deepEqual({ status: out.status, smoke: out.smoke }, { status: 'passed', smoke: 'ok\n' });
    assert.equal(out.removed, 1);
    assert.equal((await stackContainers(name)).length, 0);

    const failing = await run('stack-smoke.yaml', {}, [['smoke-demo', name], ['web:8080/health', 'web:8080/missing']]);
    assert.equal(failing.done.status, 'FAILED');
    assert.equal(failing.done.state?.error, 'SmokeTestFailed');
    const history = await store.history(failing.id);
    assert.ok(history.some((h) => h.type === 'StateEntered' && h.state === 'DownAfterFailure'), 'the stack was taken down after the failure');
    assert.equal((await stackContainers(name)).length, 0);
  });
});
