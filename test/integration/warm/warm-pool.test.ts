/**
 * Warm pools on the real engine and broker: hits, misses, cold fallback, one run per container,
 * exit codes, timeouts, output limits, duplicate requests, metrics, shutdown cleanup.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LABEL } from '../../../src/domain/labels.js';
import type { AgentProcess } from '../../../src/app/agent-process.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine } from '../../helpers/docker.js';
import { TestClient, startTestAgent, tempDir } from '../../helpers/agent.js';

const engine = testEngine();
const runId = newRunId();
const labels = { [LABEL.test]: runId };
const POOL_SIZE = 2;
let agent: AgentProcess;
let client: TestClient;
const dir = tempDir('warm');

const poolMembers = async () => engine.containers.list({ labels: { ...labels, [LABEL.pool]: 'busy' } });
const idleMembers = async () => (await poolMembers()).filter((c) => c.name.startsWith('bosun-pool-') && c.status === 'running');
/** Waits for the pool to be full first, so a run that should be warm finds a member (refills take a few hundred ms). */
const full = () => eventually('pool full', async () => (await idleMembers()).length === POOL_SIZE || undefined, 30_000);
const warmRun = async (body: Record<string, unknown>) => (await full(), run(body));
const run = (body: Record<string, unknown>) => client.request('start_container.response_channel', { image: TEST_IMAGE, response_channel: `warm-${runId}-sink`, labels, ...body });

describe('warm pools', () => {
  before(async () => {
    const pools = join(dir, 'pools.yaml');
    writeFileSync(pools, `pools:\n  - name: busy\n    image: ${TEST_IMAGE}\n    size: ${POOL_SIZE}\n    match:\n      labels: { ${LABEL.test}: ${runId} }\n`);
    const policy = join(dir, 'policy.yaml');
    writeFileSync(policy, 'default_limits: { output_bytes: 100k }\n');
    agent = await startTestAgent({ poolsFile: pools, policyFile: policy, http: '127.0.0.1:0' });
    client = await TestClient.connect();
    await eventually('pool filled', async () => (await idleMembers()).length === POOL_SIZE || undefined, 30_000);
  });
  after(async () => {
    await client?.close();
    await agent?.stop();
    await removeTestContainers(engine, runId);
  });

  it('a matching run takes a prewarmed container: same output, env and exit code as cold, warm: true', async () => {
    const before = new Set((await idleMembers()).map((c) => c.id));
    const r = await warmRun({ command: ['sh', '-c', 'echo uuid=$UUID; echo oops >&2; pwd'], working_dir: '/bin', environment: { A: 'b' } });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.warm, true);
    assert.equal(r.exit_code, 0);
    assert.match(String(r.stdout), /^uuid=[0-9a-f]{32}\n\/bin\n$/);
    assert.equal(r.stderr, 'oops\n');
    const id = (r.container as { id: string }).id;
    assert.ok(before.has(id), 'the run used a container that was idle in the pool');
    await eventually('used container removed', async () => (await engine.containers.inspect(id)) === undefined || undefined);
    await eventually('pool refilled', async () => (await idleMembers()).length === POOL_SIZE || undefined, 30_000);
  });

  it('messages cannot act on pool containers: idle ones are nobody\'s, a claimed one cannot carry its run\'s owner', async () => {
    await full();
    const [member] = await idleMembers();
    assert.ok(member);
    const status = await client.request('container_status', { name: member.name, response_channel: `warm-${runId}-sink` });
    assert.equal(status.ok, false, JSON.stringify(status));
    assert.equal((status.error as { code: string }).code, 'policy_denied');
    assert.match((status.error as { message: string }).message, /warm pool/);
    const stop = await client.request('stop_container', { name: member.name, response_channel: `warm-${runId}-sink` });
    assert.equal((stop.error as { code: string }).code, 'policy_denied');
    assert.equal((await engine.containers.inspect(member.id))?.state.running, true, 'the member still runs');
    const listed = await client.request('start_containers_not_running', { name: 'bosun-pool-', exact_value: false, response_channel: `warm-${runId}-sink` });
    assert.equal((listed.error as { code: string } | undefined)?.code, 'not_found', `a prefix does not list pool containers: ${JSON.stringify(listed)}`);
  });

  it('the image entrypoint/cmd rule holds: a run without a command runs the image command', async () => {
    const r = await warmRun({ entrypoint: ['echo'], command: ['via', 'entrypoint'] });
    assert.equal(r.warm, true);
    assert.equal(r.stdout, 'via entrypoint\n');
  });

  it('each container serves one run: a file written by one run is not seen by the next', async () => {
    const a = await warmRun({ command: ['sh', '-c', 'echo secret > /left-behind; cat /left-behind'] });
    assert.equal(a.stdout, 'secret\n');
    const b = await warmRun({ command: ['sh', '-c', 'cat /left-behind 2>/dev/null || echo absent'] });
    assert.equal(a.warm, true);
    assert.equal(b.warm, true);
    assert.equal(b.stdout, 'absent\n');
    assert.notEqual((a.container as { id: string }).id, (b.container as { id: string }).id);
  });

  it('a non-zero exit is reported as for a cold run', async () => {
    const r = await warmRun({ command: ['sh', '-c', 'echo bye; exit 3'] });
    assert.equal(r.warm, true);
    assert.equal(r.ok, false);
    assert.equal(r.exit_code, 3);
    assert.equal((r.error as { code: string }).code, 'nonzero_exit');
  });

  it('a run past its timeout is stopped, its container killed and removed', async () => {
    const r = await warmRun({ command: ['sh', '-c', 'echo started; sleep 60'], timeout: 1 });
    assert.equal(r.warm, true);
    assert.equal((r.error as { code: string }).code, 'timeout');
    assert.equal(r.stdout, 'started\n');
    assert.equal(r.exit_code, undefined);
    const id = (r.container as { id: string }).id;
    await eventually('timed-out container removed', async () => (await engine.containers.inspect(id)) === undefined || undefined);
  });

  it("output past the policy's output_bytes stops the run", async () => {
    const r = await warmRun({ command: ['sh', '-c', 'while true; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done'] });
    assert.equal(r.warm, true);
    assert.equal((r.error as { code: string }).code, 'output_limit');
    assert.ok(Number(r.stdout_bytes) > 100 * 1024);
  });

  it('a run with other create-time settings, or warm: false, goes cold; warm: true says why', async () => {
    const other = await run({ command: ['echo', 'x'], labels: { ...labels, extra: '1' } });
    assert.equal(other.ok, true);
    assert.equal(other.warm, false);
    const optOut = await run({ command: ['echo', 'x'], warm: false });
    assert.equal(optOut.warm, false);
    assert.equal(optOut.stdout, 'x\n');
    const asked = await run({ command: ['echo', 'x'], warm: true, resources: { memory: '64m' } });
    assert.equal(asked.warm, false);
    assert.match(String((asked.result as { notice?: string }).notice), /no pool has these create-time settings/);
    // Host ports: a pool never holds them, so the run is told so (not "no pool has these settings").
    await full();
    const ported = await run({ command: ['echo', 'p'], warm: true, ports: { '80': 0 } });
    assert.equal(ported.ok, true, JSON.stringify(ported));
    assert.equal(ported.warm, false);
    assert.equal(ported.stdout, 'p\n');
    assert.match(String((ported.result as { notice?: string }).notice), /not one a pool can serve \(ports\)/);
  });

  it('a pool member that died is skipped: the run goes cold and succeeds', async () => {
    await eventually('pool full', async () => (await idleMembers()).length === POOL_SIZE || undefined, 30_000);
    await Promise.all((await idleMembers()).map((c) => engine.containers.kill(c.id)));
    const r = await run({ command: ['echo', 'still'] });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.warm, false);
    assert.equal(r.stdout, 'still\n');
    await eventually('pool refilled', async () => (await idleMembers()).length === POOL_SIZE || undefined, 30_000);
  });

  it('idle members removed by hand (or by another agent) are replaced, not counted as idle for ever', async () => {
    await eventually('pool full', async () => (await idleMembers()).length === POOL_SIZE || undefined, 30_000);
    const before = new Set((await idleMembers()).map((c) => c.id));
    await Promise.all([...before].map((id) => engine.containers.remove(id, { force: true })));
    // Refilled with new members by the sweep: before, the pool kept the vanished ids as idle and never refilled.
    await eventually('pool refilled with new members', async () => {
      const now = await idleMembers();
      return (now.length === POOL_SIZE && now.every((c) => !before.has(c.id))) || undefined;
    }, 30_000);
    const r = await warmRun({ command: ['echo', 'again'] });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.warm, true, JSON.stringify(r));
    assert.equal(r.stdout, 'again\n');
  });

  it('two deliveries of one request id: one run, the other is told it already ran', async () => {
    const sink = await client.collect(`warm-${runId}-dup`);
    const body = { image: TEST_IMAGE, response_channel: `warm-${runId}-dup`, labels, request_id: `dup-${runId}`, command: ['sh', '-c', 'sleep 2; echo once'] };
    await client.send('start_container.response_channel', body);
    await client.send('start_container.response_channel', body);
    const replies = await eventually('two replies', async () => (sink.messages.length >= 2 ? sink.json() : undefined), 30_000);
    await sink.stop();
    const ran = replies.filter((r) => r.ok === true);
    const refused = replies.filter((r) => (r.error as { code?: string } | undefined)?.code === 'conflict');
    assert.equal(ran.length, 1, JSON.stringify(replies));
    assert.equal(ran[0]?.stdout, 'once\n');
    assert.equal(refused.length, 1, JSON.stringify(replies));
  });

  it('/metrics counts hits and misses; the pool size is shown', async () => {
    const res = await agent.http!.inject({ method: 'GET', url: '/metrics' });
    assert.match(res.body, /bosun_warm_hits_total\{pool="busy"\} [1-9]/);
    assert.match(res.body, /bosun_warm_misses_total\{reason="opted_out"\} [1-9]/);
    assert.match(res.body, /bosun_warm_misses_total\{reason="no_pool"\} [1-9]/);
    assert.match(res.body, /bosun_warm_misses_total\{reason="ports"\} [1-9]/);
    assert.match(res.body, /bosun_warm_idle_containers\{pool="busy"\}/);
    assert.match(res.body, /bosun_warm_refill_seconds_count\{pool="busy"\} [1-9]/);
    const health = await agent.http!.inject({ method: 'GET', url: '/healthz' });
    assert.equal((health.json() as { details: { pools: { name: string }[] } }).details.pools[0]?.name, 'busy');
  });

  it('shutdown removes the idle pool containers', async () => {
    await eventually('pool full', async () => (await idleMembers()).length === POOL_SIZE || undefined, 30_000);
    await agent.stop();
    assert.deepEqual(await poolMembers(), []);
  });
});
