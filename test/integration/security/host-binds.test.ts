/**
 * Host access through binds under the default policy, on the real engine and agent:
 * symlinks planted by one container (#1), the check-then-use swap with restart_container (#2),
 * /tmp as a root (#3). Each attack is first shown to be handled (a reply), then to fail.
 * The canary is our own directory outside the roots, never a real host file.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LABEL } from '../../../src/domain/labels.js';
import type { AgentProcess } from '../../../src/app/agent-process.js';
import { TEST_IMAGE, newRunId, removeTestContainers, testEngine, uniqueName } from '../../helpers/docker.js';
import { TestClient, startTestAgent } from '../../helpers/agent.js';
import { bosunTestDir, removeBosunTestDir } from '../../helpers/bosun-root.js';

const engine = testEngine();
const runId = newRunId();
const labels = { [LABEL.test]: runId };
const SECRET = `canary-${runId}`;
type Reply = Record<string, unknown> & { ok: boolean; error?: { code: string; field?: string; message: string }; stdout?: string };

describe('security: binds under the default policy', () => {
  let agent: AgentProcess;
  let client: TestClient;
  let dir: string;
  let canary: string;
  const run = async (command: string, volumes: Record<string, { bind: string; mode?: 'rw' | 'ro' }>) =>
    (await client.request('start_container.response_channel', { image: TEST_IMAGE, command: ['sh', '-c', command], volumes, labels, response_channel: `out-${runId}` })) as Reply;

  before(async () => {
    dir = bosunTestDir('atk');
    canary = mkdtempSync('/var/tmp/bosun-canary-');
    writeFileSync(join(canary, 'secret'), `${SECRET}\n`);
    agent = await startTestAgent();
    client = await TestClient.connect();
  });
  after(async () => {
    await client?.close();
    await agent?.stop();
    await removeTestContainers(engine, runId);
    removeBosunTestDir(dir);
    rmSync(canary, { recursive: true, force: true });
  });

  it('#1 a stack cannot bind a symlink a run planted (refused, not followed)', async () => {
    const plant = await run(`ln -s ${canary} /h/x && echo planted`, { [dir]: { bind: '/h' } });
    assert.equal(plant.stdout, 'planted\n', JSON.stringify(plant));
    const name = `sec${runId}`;
    const inline = `services:\n  app:\n    image: ${TEST_IMAGE}\n    command: ["cat", "/e/secret"]\n    labels: {${LABEL.test}: ${runId}}\n    volumes: ["${dir}/x:/e"]\n`;
    const r = (await client.request('stack', { action: 'up', name, stack: { inline } }, { timeoutMs: 90_000 })) as Reply;
    assert.equal(r.ok, false, JSON.stringify(r));
    assert.equal(r.error?.code, 'policy_denied');
    assert.equal(r.error?.field, 'stack.services.app.volumes');
    assert.deepEqual(await engine.containers.list({ all: true, labels: { [LABEL.stack]: name } }), []);
  });

  it('#1 run_script cannot mount a planted symlink as its script_path', async () => {
    const plant = await run(`ln -sfn ${canary} /h/scripts && echo planted`, { [dir]: { bind: '/h' } });
    assert.equal(plant.stdout, 'planted\n', JSON.stringify(plant));
    const inline = `services:\n  app:\n    image: ${TEST_IMAGE}\n    network_mode: none\n    labels: {${LABEL.test}: ${runId}}\n`;
    for (const scriptPath of [join(dir, 'scripts'), join(dir, 'scripts', 'secret')]) {
      const r = (await client.request('stack', {
        action: 'run_script', name: `scr${runId}`, stack: { inline },
        script: { service: 'app', script_path: scriptPath, command_format: ['sh', '-c', 'cat /tmp/script_run/secret || cat /tmp/script_run'] },
      })) as Reply;
      assert.equal(r.ok, false, JSON.stringify(r));
      assert.equal(r.error?.code, 'policy_denied', JSON.stringify(r));
      assert.equal(r.error?.field, 'script.script_path', JSON.stringify(r));
      assert.ok(!JSON.stringify(r).includes(SECRET));
    }
  });

  it('#2 swap then restart: a bind below another container\'s writable bind is refused; an allowed one stays put across restarts', async () => {
    const made = await run('mkdir /h/d && echo inner > /h/d/file && echo made', { [dir]: { bind: '/h' } });
    assert.equal(made.stdout, 'made\n');
    const victimName = uniqueName(`victim-${runId}`);
    const victim = (await client.request('start_container.create', {
      image: TEST_IMAGE, name: victimName, command: 'sleep 300', labels, volumes: { [join(dir, 'd')]: { bind: '/v' } },
    })) as Reply;
    // The old code created it; then the swap below and a restart mounted the canary.
    const swap = await run(`rm -rf /h/d && ln -s ${canary} /h/d && echo swapped`, { [dir]: { bind: '/h' } });
    assert.equal(swap.stdout, 'swapped\n');
    if (victim.ok) {
      const restarted = (await client.request('restart_container', { name: victimName, timeout: 1 })) as Reply;
      assert.equal(restarted.ok, true, JSON.stringify(restarted));
      const seen = await engine.exec.run(victimName, { cmd: ['sh', '-c', 'cat /v/secret 2>/dev/null; true'] });
      assert.ok(!seen.output.stdout.includes(SECRET), 'the restarted victim sees the canary');
    }
    assert.equal(victim.ok, false, JSON.stringify(victim));
    assert.equal(victim.error?.code, 'policy_denied');
    assert.equal(victim.error?.field, 'volumes');

    // Allowed: <root>/<name>. The only writable ancestor is the root, and no container may bind it.
    const own = bosunTestDir('victim');
    try {
      writeFileSync(join(own, 'file'), 'mine\n');
      const ok = (await client.request('start_container.create', { image: TEST_IMAGE, name: `${victimName}-ok`, command: 'sleep 300', labels, volumes: { [own]: { bind: '/v' } } })) as Reply;
      assert.equal(ok.ok, true, JSON.stringify(ok));
      const rootBind = await run(`rm -rf /r/${own.split('/').pop()} && ln -s ${canary} /r/${own.split('/').pop()}`, { '/srv/bosun': { bind: '/r' } });
      assert.equal(rootBind.ok, false);
      assert.equal(rootBind.error?.code, 'policy_denied', JSON.stringify(rootBind));
      const restarted = (await client.request('restart_container', { name: `${victimName}-ok`, timeout: 1 })) as Reply;
      assert.equal(restarted.ok, true, JSON.stringify(restarted));
      const seen = await engine.exec.run(`${victimName}-ok`, { cmd: ['cat', '/v/file'] });
      assert.equal(seen.output.stdout, 'mine\n');
    } finally {
      await engine.containers.remove(`${victimName}-ok`, { force: true });
      removeBosunTestDir(own);
    }
  });

  it('#2 a build context that a container can write is refused (it could be swapped while the engine tars it)', async () => {
    const ctxDir = bosunTestDir('ctx');
    const holder = uniqueName(`holder-${runId}`);
    try {
      writeFileSync(join(ctxDir, 'Dockerfile'), `FROM ${TEST_IMAGE}\n`);
      const h = (await client.request('start_container.create', { image: TEST_IMAGE, name: holder, command: 'sleep 300', labels, volumes: { [ctxDir]: { bind: '/c' } } })) as Reply;
      assert.equal(h.ok, true, JSON.stringify(h));
      const b = (await client.request('start_container.create', { image: `bosun-sec-ctx-${runId}`, build: true, context: ctxDir, labels })) as Reply;
      assert.equal(b.error?.code, 'policy_denied', JSON.stringify(b));
      assert.equal(b.error?.field, 'context');
      assert.match(b.error?.message ?? '', new RegExp(holder));
      // The stack channel's builds get the same check.
      const inline = `services:\n  app:\n    image: bosun-sec-ctx-${runId}\n    build: {context: ${JSON.stringify(ctxDir)}}\n    labels: {${LABEL.test}: ${runId}}\n`;
      const st = (await client.request('stack', { action: 'up', name: `secctx${runId}`.toLowerCase().replace(/[^a-z0-9]/g, ''), stack: { inline } }, { timeoutMs: 90_000 })) as Reply;
      assert.equal(st.error?.code, 'policy_denied', JSON.stringify(st));
      assert.equal(st.error?.field, 'stack.services.app.build');
      assert.match(st.error?.message ?? '', new RegExp(holder));
    } finally {
      await engine.containers.remove(holder, { force: true });
      removeBosunTestDir(ctxDir);
    }
  });

  it('#3 /tmp is no bind or build root by default', async () => {
    const scratch = mkdtempSync('/tmp/bosun-sec-');
    try {
      mkdirSync(join(scratch, 'ctx'));
      writeFileSync(join(scratch, 'ctx', 'Dockerfile'), `FROM ${TEST_IMAGE}\n`);
      const r = await run('cat /t/* || true', { [scratch]: { bind: '/t' } });
      assert.equal(r.error?.code, 'policy_denied', JSON.stringify(r));
      assert.equal(r.error?.field, 'volumes');
      const b = (await client.request('start_container.create', { image: `bosun-sec-${runId}`, build: true, context: join(scratch, 'ctx'), labels })) as Reply;
      assert.equal(b.error?.code, 'policy_denied', JSON.stringify(b));
      assert.equal(b.error?.field, 'context');
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
