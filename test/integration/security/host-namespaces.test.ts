/**
 * Namespaces (#4), host-reaching fields and ports (#7), nosuid roots (#3) and the state dir
 * (#6) under the default policy, on the real agent and engine. Each refusal is a reply.
 */
import { rawDocker } from '../../../test/helpers/raw-docker.js';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LABEL } from '../../../src/domain/labels.js';
import type { AgentProcess } from '../../../src/app/agent-process.js';
import { mountOptionsAt } from '../../../src/app/host-setup.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine, uniqueName } from '../../helpers/docker.js';
import { TestClient, startTestAgent, tempDir } from '../../helpers/agent.js';
import { bosunTestDir, removeBosunTestDir } from '../../helpers/bosun-root.js';

const engine = testEngine();
const runId = newRunId();
const labels = { [LABEL.test]: runId };
type Reply = Record<string, unknown> & { ok: boolean; error?: { code: string; field?: string; message: string }; stdout?: string };
const denied = (r: Reply, field: string) => {
  assert.equal(r.ok, false, JSON.stringify(r));
  assert.equal(r.error?.code, 'policy_denied', JSON.stringify(r));
  assert.equal(r.error?.field, field, JSON.stringify(r));
};

describe('security: namespaces, host fields, ports, nosuid, state dir', () => {
  let agent: AgentProcess;
  let client: TestClient;
  let stateDir: string;
  const victim = uniqueName(`victim-${runId}`);
  const stackReq = async (body: unknown) => (await client.request('stack', body, { timeoutMs: 90_000 })) as Reply;
  const runReq = async (body: Record<string, unknown>) =>
    (await client.request('start_container.response_channel', { image: TEST_IMAGE, labels, response_channel: `out-${runId}`, ...body })) as Reply;

  before(async () => {
    stateDir = tempDir('state-sec');
    agent = await startTestAgent({ stateDir });
    client = await TestClient.connect();
    const v = (await client.request('start_container.create', { image: TEST_IMAGE, name: victim, command: 'sleep 300', environment: { SECRET: `s-${runId}` }, labels })) as Reply;
    assert.equal(v.ok, true, JSON.stringify(v));
  });
  after(async () => {
    await client?.close();
    await agent?.stop();
    await removeTestContainers(engine, runId);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('#4 a run may not join another container\'s network namespace', async () => {
    denied(await runReq({ command: 'ip addr', network: `container:${victim}` }), 'network');
  });

  it('#4 a stack may not join the namespaces of a container outside it', async () => {
    const name = `ns${runId}`;
    const svc = (extra: string) => `services:\n  app:\n    image: ${TEST_IMAGE}\n    command: ["cat", "/proc/1/environ"]\n    labels: {${LABEL.test}: ${runId}}\n    ${extra}\n`;
    denied(await stackReq({ action: 'up', name, stack: { inline: svc(`pid: container:${victim}`) } }), 'stack.services.app.pid');
    denied(await stackReq({ action: 'up', name, stack: { inline: svc(`network_mode: container:${victim}`) } }), 'stack.services.app.network');
    assert.deepEqual(await engine.containers.list({ all: true, labels: { [LABEL.stack]: name } }), []);
  });

  it('#4 service:X within the stack works; a container of that name made by someone else is refused', async () => {
    const name = `nsok${runId}`;
    const inline = `services:\n  db:\n    image: ${TEST_IMAGE}\n    command: ["sleep", "300"]\n    labels: {${LABEL.test}: ${runId}}\n  app:\n    image: ${TEST_IMAGE}\n    command: ["sleep", "300"]\n    network_mode: service:db\n    pid: service:db\n    labels: {${LABEL.test}: ${runId}}\n`;
    const squat = (await client.request('start_container.create', { image: TEST_IMAGE, name: `${name}x-db`, command: 'sleep 300', labels })) as Reply;
    assert.equal(squat.ok, true, JSON.stringify(squat));
    denied(await stackReq({ action: 'up', name: `${name}x`, stack: { inline } }), 'stack.services.app.network_mode');
    const up = await stackReq({ action: 'up', name, stack: { inline } });
    assert.equal(up.ok, true, JSON.stringify(up));
    const db = await engine.containers.inspect(`${name}-db`);
    const app = await engine.containers.inspect(`${name}-app`);
    assert.equal(app?.networkMode, `container:${db?.id}`);
    assert.equal((await stackReq({ action: 'down', name, stack: { inline } })).ok, true);
  });

  it('#7 ports: loopback by default; every interface and ports below 1024 are refused', async () => {
    const name = uniqueName(`ports-${runId}`);
    const r = (await client.request('start_container.create', { image: TEST_IMAGE, name, command: 'sleep 300', ports: { '80': 0 }, labels })) as Reply;
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal((await engine.containers.inspect(name))?.portBindings[0]?.hostIp, '127.0.0.1');
    const raw = (await rawDocker().getContainer(name).inspect()) as { HostConfig: { SecurityOpt?: string[] } };
    assert.deepEqual(raw.HostConfig.SecurityOpt, ['no-new-privileges'], 'every bosun-made container gets no-new-privileges');
    denied(await runReq({ command: 'true', ports: { '80': '0.0.0.0:0' } }), 'ports');
    denied(await runReq({ command: 'true', ports: { '80': 80 } }), 'ports');
  });

  it('#7 volume driver_opts (a bind of a host path in disguise) and working_dir under /proc are refused', async () => {
    const name = `vo${runId}`;
    const inline = `services:\n  app:\n    image: ${TEST_IMAGE}\n    volumes: ["data:/d"]\n    labels: {${LABEL.test}: ${runId}}\nvolumes:\n  data:\n    driver_opts: {type: none, o: bind, device: /etc}\n`;
    denied(await stackReq({ action: 'up', name, stack: { inline } }), 'stack.volumes.data.driver_opts');
    assert.equal((await rawDocker().listVolumes({ filters: JSON.stringify({ name: [`${name}_data`] }) })).Volumes?.length ?? 0, 0);
    denied(await runReq({ command: 'pwd', working_dir: '/proc/self/cwd' }), 'working_dir');
  });

  it('#3 the bind root is nosuid,nodev: a setuid binary planted by a container does not elevate on the host', async () => {
    const opts = mountOptionsAt('/srv/bosun');
    assert.ok(opts?.includes('nosuid') && opts.includes('nodev'), `mount options of /srv/bosun: ${opts?.join(',')}`);
    const dir = bosunTestDir('suid');
    const control = mkdtempSync('/var/tmp/bosun-suid-');
    try {
      writeFileSync(join(dir, 'euid.c'), '#include <stdio.h>\n#include <unistd.h>\nint main(void){printf("%d\\n",(int)geteuid());return 0;}\n');
      execFileSync('gcc', ['-static', '-o', join(dir, 'euid'), join(dir, 'euid.c')]);
      const plant = await runReq({ command: ['sh', '-c', 'cp /h/euid /h/suid && chmod 4755 /h/suid && grep " /h " /proc/self/mountinfo'], volumes: { [dir]: { bind: '/h' } } });
      assert.equal(plant.ok, true, JSON.stringify(plant));
      assert.match(String(plant.stdout), /nosuid/);
      assert.match(String(plant.stdout), /nodev/);
      const asNobody = (file: string) => execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', file], { encoding: 'utf8' }).trim();
      chmodSync(control, 0o755);
      copyFileSync(join(dir, 'suid'), join(control, 'suid'));
      chmodSync(join(control, 'suid'), 0o4755);
      assert.equal(asNobody(join(control, 'suid')), '0', 'control: setuid works outside the bind root');
      assert.equal(asNobody(join(dir, 'suid')), '65534');
    } finally {
      removeBosunTestDir(dir);
      rmSync(control, { recursive: true, force: true });
    }
  });

  it('#6 the state file is written through a fresh O_EXCL temp name, never through a planted symlink', async () => {
    const target = mkdtempSync('/var/tmp/bosun-state-target-');
    try {
      writeFileSync(join(target, 'victim'), 'untouched\n');
      symlinkSync(join(target, 'victim'), join(stateDir, `monitors.json.${process.pid}.tmp`));
      const r = (await client.request('monitor_container_status', { name: victim, response_channel: `mon-${runId}`, interval: 60 })) as Reply;
      assert.equal(r.ok, true, JSON.stringify(r));
      await eventually('monitors.json with the monitor', async () => existsSync(join(stateDir, 'monitors.json')) && readFileSync(join(stateDir, 'monitors.json'), 'utf8').includes(victim));
      assert.equal(readFileSync(join(target, 'victim'), 'utf8'), 'untouched\n');
    } finally {
      rmSync(target, { recursive: true, force: true });
    }
  });

  it('#6 a state dir others can write, or one below a bind root, is refused at start', async () => {
    const open = tempDir('state-open');
    chmodSync(open, 0o777);
    const inRoot = bosunTestDir('state');
    try {
      await assert.rejects(startTestAgent({ stateDir: open }), (e: unknown) => (e as { code?: string }).code === 'invalid_message' && /writable by others/.test(String(e)));
      await assert.rejects(startTestAgent({ stateDir: inRoot }), (e: unknown) => (e as { code?: string }).code === 'invalid_message' && /bind root/.test(String(e)));
    } finally {
      rmSync(open, { recursive: true, force: true });
      removeBosunTestDir(inRoot);
    }
  });
});
