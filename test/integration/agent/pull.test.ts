/**
 * Pull policy against a real registry: Debian's docker-registry on loopback, started and
 * stopped by this test (the engine treats 127.0.0.0/8 registries as insecure-allowed).
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { LABEL } from '../../../src/domain/labels.js';
import type { AgentProcess } from '../../../src/app/agent-process.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine } from '../../helpers/docker.js';
import { TestClient, startTestAgent } from '../../helpers/agent.js';

const engine = testEngine();
const runId = newRunId();
const labels = { [LABEL.test]: runId };
const dir = mkdtempSync(join(tmpdir(), 'bosun-registry-'));
let registry: ChildProcess;
let ref = '';
let agent: AgentProcess;
let client: TestClient;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

before(async () => {
  const port = await freePort();
  writeFileSync(join(dir, 'config.yml'), `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  registry = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  await eventually('registry up', async () => (await fetch(`http://127.0.0.1:${port}/v2/`)).ok, 20_000);
  ref = `127.0.0.1:${port}/bosun/busybox:${runId}`;
  execFileSync('docker', ['tag', TEST_IMAGE, ref]);
  execFileSync('docker', ['push', '-q', ref], { timeout: 120_000 });
  execFileSync('docker', ['rmi', ref]);
  agent = await startTestAgent();
  client = await TestClient.connect();
});

after(async () => {
  await client.close();
  await agent.stop();
  await removeTestContainers(engine, runId);
  await engine.images.remove(ref, { force: true });
  registry.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

const run = (pull?: string) =>
  client.request('start_container.response_channel', { image: ref, command: 'echo pulled', response_channel: `out-${runId}-pull`, labels, ...(pull ? { pull } : {}) });

it('pull "never" refuses an image that is not on the host', async () => {
  const r = await run('never');
  assert.deepEqual([r.ok, (r.error as { code: string; field: string }).code, (r.error as { field: string }).field], [false, 'image_not_found', 'image']);
});

it('the default pull policy ("missing") pulls from the registry, then runs', async () => {
  assert.equal(await engine.images.inspect(ref), undefined);
  const r = await run();
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.equal(r.stdout, 'pulled\n');
  assert.ok(await engine.images.inspect(ref));
});

it('pull "always" pulls again even when the image is present', async () => {
  const r = await run('always');
  assert.equal(r.stdout, 'pulled\n');
});
