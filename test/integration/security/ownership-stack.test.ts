/**
 * Findings 5 and 12 on the stack channel: an external volume that exists without bosun's
 * label is refused, a service cannot set bosun.* labels, a build cannot retag a foreign
 * image, and services that set no limits get the policy's defaults. Real agent and Docker.
 */
import { rawDocker } from '../../../test/helpers/raw-docker.js';
import { bosunTestDir, removeBosunTestDir } from '../../helpers/bosun-root.js';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentProcess } from '../../../src/app/agent-process.js';
import { LABEL } from '../../../src/domain/labels.js';
import { TEST_IMAGE, newRunId, testEngine } from '../../helpers/docker.js';
import { TestClient, startTestAgent } from '../../helpers/agent.js';
import { StackFixture } from '../stacks/helpers.js';

const engine = testEngine();
const runId = newRunId();
const fx = new StackFixture(engine, runId);
const NAME = `${runId}s`;
fx.names.add(NAME);
const foreignVolume = `foreignvol-${runId}`;
const MiB = 1024 * 1024;

type Reply = { ok: boolean; error?: { code: string; message: string; field?: string } } & Record<string, unknown>;

const service = (extra = '') => `services:
  app:
    image: ${TEST_IMAGE}
    command: sleep 3600
    stop_signal: SIGKILL
    labels: {${LABEL.test}: ${runId}${extra}}
`;

describe('stack channel: ownership and default limits', () => {
  let agent: AgentProcess;
  let client: TestClient;
  const req = async (body: unknown) => (await client.request('stack', body, { timeoutMs: 90_000 })) as Reply;

  before(async () => {
    agent = await startTestAgent();
    client = await TestClient.connect();
    await engine.volumes.ensure(foreignVolume, { [LABEL.test]: runId });
  });
  after(async () => {
    await client?.close();
    await agent?.stop();
    await fx.cleanup();
    await engine.volumes.remove(foreignVolume);
  });

  it('refuses an external volume bosun did not make, and leaves nothing behind', async () => {
    const inline = `${service()}    volumes: ["data:/data"]
volumes:
  data: {external: true, name: ${foreignVolume}}
`;
    const r = await req({ action: 'up', name: NAME, stack: { inline } });
    assert.equal(r.error?.code, 'policy_denied', JSON.stringify(r));
    assert.equal(r.error?.field, 'stack.volumes.data');
    assert.match(r.error?.message ?? '', /not made by bosun/);
    assert.equal((await engine.containers.list({ all: true, labels: { [LABEL.stack]: NAME } })).length, 0);
  });

  it('refuses bosun.* labels on a service', async () => {
    const r = await req({ action: 'up', name: NAME, stack: { inline: service(`, ${LABEL.request}: forged`) } });
    assert.equal(r.error?.code, 'invalid_message', JSON.stringify(r));
    assert.equal(r.error?.field, `stack.services.app.labels.${LABEL.request}`);
  });

  it('refuses a build that would retag an image bosun did not make', async () => {
    const tag = `bosun-test-foreign-stack:${runId}`;
    const context = bosunTestDir('fstack');
    writeFileSync(join(context, 'Dockerfile'), `FROM ${TEST_IMAGE}\nLABEL ${LABEL.test}=${runId}\n`);
    const foreign = await engine.images.build({ contextDir: context, tag });
    try {
      const inline = `services:
  app:
    image: ${tag}
    build: {context: ${JSON.stringify(context)}}
    command: sleep 3600
    labels: {${LABEL.test}: ${runId}}
`;
      const r = await req({ action: 'up', name: NAME, stack: { inline } });
      assert.equal(r.error?.code, 'policy_denied', JSON.stringify(r));
      assert.equal(r.error?.field, 'stack.services.app.image');
      assert.equal((await engine.images.inspect(tag))?.id, foreign.imageId);
    } finally {
      await engine.images.remove(tag, { force: true });
      removeBosunTestDir(context);
    }
  });

  it('a service that sets no limits gets the default memory, CPU, pids and log rotation', async () => {
    const r = await req({ action: 'up', name: NAME, stack: { inline: service() } });
    assert.equal(r.ok, true, JSON.stringify(r));
    const hc = ((await rawDocker().getContainer(`${NAME}-app`).inspect()) as unknown as { HostConfig: Record<string, unknown> }).HostConfig;
    assert.deepEqual([hc.Memory, hc.NanoCpus, hc.PidsLimit], [512 * MiB, 1e9, 512]);
    assert.deepEqual(hc.LogConfig, { Type: 'json-file', Config: { 'max-size': String(10 * MiB), 'max-file': '3' } });
    const again = (await req({ action: 'plan', name: NAME, stack: { inline: service() } })) as Reply & { result?: { changed: number } };
    assert.equal(again.result?.changed, 0, JSON.stringify(again));
    const down = await req({ action: 'down', name: NAME, stack: { inline: service() } });
    assert.equal(down.ok, true, JSON.stringify(down));
  });
});
