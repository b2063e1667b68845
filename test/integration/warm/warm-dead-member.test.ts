/**
 * A warm member that dies between its claim and the run's exec (OOM, killed by hand, daemon
 * trouble): the exec is refused, the member is released and the run goes cold, once and correctly.
 * Real engine and real WarmPools; the kill comes after the claim, so the pool's sweep (which drops
 * dead *idle* members) cannot take the "empty pool" path instead. Last, the same through a real
 * agent whose sweep is held off, so the pool still counts the killed member as idle when the run claims it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { pino } from 'pino';
import { dockerConnection } from '../../../src/adapters/engine-docker/docker-engine.js';
import { DockerExec } from '../../../src/adapters/engine-docker/exec.js';
import { LABEL } from '../../../src/domain/labels.js';
import type { ContainerEngine } from '../../../src/ports/engine.js';
import type { ExecRequest } from '../../../src/domain/engine/index.js';
import { systemClock } from '../../../src/ports/clock.js';
import type { Policy } from '../../../src/domain/policy.js';
import type { ActionContext } from '../../../src/actions/types.js';
import { runAttached } from '../../../src/actions/run-container.js';
import { attachedRunSchema } from '../../../src/actions/schemas/run.js';
import { buildRunSpec } from '../../../src/actions/run-spec.js';
import { loadPolicy } from '../../../src/app/policy-file.js';
import type { AgentProcess } from '../../../src/app/agent-process.js';
import type { Logger } from '../../../src/util/log.js';
import type { PoolMetrics } from '../../../src/warm/metrics.js';
import { loadPoolFile } from '../../../src/warm/pool-file.js';
import { resolvedSpec } from '../../../src/warm/pool-spec.js';
import { WarmPools } from '../../../src/warm/pools.js';
import { claimWarm, runClaimed, takenOutcome } from '../../../src/warm/warm-path.js';
import { claimName } from '../../../src/warm/plan.js';
import { BosunError } from '../../../src/domain/errors.js';
import { TEST_IMAGE, eventually, newRunId, removeTestContainers, testEngine } from '../../helpers/docker.js';
import { TestClient, startTestAgent, tempDir } from '../../helpers/agent.js';

const engine = testEngine();
const runId = newRunId();
const labels = { [LABEL.test]: runId };
const dir = tempDir('warm-dead');
const COLD_LINE = 'pool container was not running; the run goes cold';
const SWEEP_LINE = 'idle pool containers had stopped; replaced';

function poolsFile(pool: string): string {
  const path = join(dir, `${pool}.yaml`);
  writeFileSync(path, `pools:\n  - name: ${pool}\n    image: ${TEST_IMAGE}\n    size: 1\n    match:\n      labels: { ${LABEL.test}: ${runId} }\n`);
  return path;
}

/** Running, unclaimed members of a pool. */
const idleOf = async (pool: string) => (await engine.containers.list({ labels: { ...labels, [LABEL.pool]: pool } })).filter((c) => c.name.startsWith('bosun-pool-') && c.status === 'running');
const oneIdle = (pool: string, not?: string) => eventually(`an idle member of ${pool}`, async () => {
  const [c, more] = await idleOf(pool);
  return c && !more && c.id !== not ? c : undefined;
}, 30_000);

/** Kills a container and waits until the engine no longer says it runs: the next exec is refused, not raced. */
async function killDead(id: string): Promise<void> {
  await engine.containers.kill(id);
  await eventually('member stopped', async () => (await engine.containers.inspect(id))?.state.running === false || undefined);
}

/** A real Docker client whose exec create, once Docker made the exec, kills the container and waits until it stopped. */
function killingAfterExecCreate(onKill: (id: string) => void): Docker {
  const docker = new Docker(dockerConnection(process.env.DOCKER_HOST));
  const getContainer = docker.getContainer.bind(docker);
  docker.getContainer = (id: string) => {
    const c = getContainer(id);
    const exec = c.exec.bind(c);
    c.exec = (async (opts: Docker.ExecCreateOptions) => {
      const made = await exec(opts);
      onKill(c.id);
      await killDead(c.id);
      return made;
    }) as typeof c.exec;
    return c;
  };
  return docker;
}

/** Log lines (JSON) as a pino logger at debug writes them. */
function capturingLogger(): { log: Logger; lines: () => string[] } {
  const lines: string[] = [];
  return { log: pino({ level: 'debug' }, { write: (s: string) => void lines.push(s) }), lines: () => lines };
}

function recordingMetrics(): PoolMetrics & { hits: string[]; misses: string[]; refills: number } {
  const m = { hits: [] as string[], misses: [] as string[], refills: 0 };
  return Object.assign(m, {
    hit: (pool: string) => void m.hits.push(pool),
    miss: (reason: string) => void m.misses.push(reason),
    idle: () => undefined,
    refilled: () => void m.refills++,
  });
}

describe('a warm member killed between claim and exec', () => {
  let policy: Policy;
  let pools: WarmPools;
  let metrics: ReturnType<typeof recordingMetrics>;
  let logs: ReturnType<typeof capturingLogger>;
  before(async () => {
    policy = await loadPolicy(undefined);
    metrics = recordingMetrics();
    logs = capturingLogger();
    pools = new WarmPools({ engine, policy, log: logs.log, file: await loadPoolFile(poolsFile('dead')), owner: `dead-${runId}`, metrics, sweepMs: 600_000 });
    await pools.start();
  });
  after(async () => {
    await pools?.stop();
    await removeTestContainers(engine, runId);
  });

  const ctxFor = (requestId: string, o: { engine?: ContainerEngine; requestIdGiven?: boolean } = {}): ActionContext => ({
    engine: o.engine ?? engine,
    policy,
    log: logs.log,
    clock: systemClock,
    requestId,
    requestIdGiven: o.requestIdGiven ?? false,
    idGenerated: !(o.requestIdGiven ?? false),
    bodyHash: `hash-${requestId}`,
    redelivered: false,
    channel: 'start_container.response_channel',
    signal: new AbortController().signal,
    pools,
    publish: async () => undefined,
    publishProgress: async () => undefined,
  });
  const inputOf = (body: Record<string, unknown>) => attachedRunSchema.parse({ image: TEST_IMAGE, labels, response_channel: `dead-${runId}-sink`, ...body });

  it('claimWarm, then the member is killed: runClaimed releases it and sends the run cold (empty), the pool refills', async () => {
    const member = await oneIdle('dead');
    const ctx = ctxFor(`dead-a-${runId}`);
    const input = inputOf({ command: ['echo', 'never warm'], warm: true });
    const spec = resolvedSpec(policy, buildRunSpec(input, { requestId: ctx.requestId, bodyHash: ctx.bodyHash, channel: ctx.channel, image: TEST_IMAGE, uuid: '0', attached: true }));
    const claim = await claimWarm(ctx, input, spec, true, false);
    assert.equal(claim.kind, 'claimed', JSON.stringify(claim));
    if (claim.kind !== 'claimed') return;
    assert.equal(claim.claimed.id, member.id, 'the idle member was claimed');
    await killDead(member.id);

    const tried = await runClaimed(ctx, claim.claimed, spec, { askedWarm: true, timeoutMs: 30_000, outputLimit: 1 << 20, replyLimit: 1 << 20 });
    assert.equal(tried.kind, 'cold', JSON.stringify(tried));
    if (tried.kind !== 'cold') return;
    assert.equal(tried.reason, 'empty');
    assert.match(String(tried.notice), /warm: true was asked, but the run went cold: pool "dead" had no live container/);
    assert.deepEqual(metrics.misses, ['empty']);
    assert.deepEqual(metrics.hits, []);
    assert.ok(logs.lines().some((l) => l.includes(COLD_LINE)), 'the warn line of the dead-at-exec path');
    await eventually('dead member removed', async () => (await engine.containers.inspect(member.id)) === undefined || undefined);
    await oneIdle('dead', member.id);
    assert.deepEqual(pools.status().map((s) => s.idle), [1], 'the pool counts its new member');
  });

  it('the whole attached run: the member dies at exec, the run is a correct cold run (exit code, output, warm: false, notice)', async () => {
    // Killed before the exec is made (beside the claim's rename), right before it is started, or
    // once Docker made it (Docker then drops the exec: 404 at the start).
    for (const asked of [{ warm: true, requestIdGiven: false, at: 'exec' }, { warm: undefined, requestIdGiven: true, at: 'exec' }, { warm: true, requestIdGiven: true, at: 'start' }, { warm: true, requestIdGiven: true, at: 'prepare' }]) {
      const member = await oneIdle('dead');
      const missesBefore = metrics.misses.length;
      // The real engine, except that an exec first kills its container: the member dies after the claim, right before the exec.
      let killedAtExec: string | undefined;
      const killing: ContainerEngine = Object.assign(Object.create(engine) as ContainerEngine, {
        exec: asked.at === 'start' ? new DockerExec(killingAfterExecCreate((id) => void (killedAtExec = id))) : asked.at === 'prepare' ? {
          prepare: async (id: string, req: ExecRequest) => {
            killedAtExec = id;
            await killDead(id);
            return engine.exec.prepare(id, req);
          },
          run: (id: string, req: ExecRequest) => engine.exec.run(id, req),
        } satisfies ContainerEngine['exec'] : {
          prepare: (id: string, req: ExecRequest) => engine.exec.prepare(id, req),
          run: async (id: string, req: ExecRequest) => {
            killedAtExec = id;
            await killDead(id);
            return engine.exec.run(id, req);
          },
        } satisfies ContainerEngine['exec'],
      });
      const ctx = ctxFor(`dead-b-${asked.requestIdGiven}-${runId}`, { engine: killing, requestIdGiven: asked.requestIdGiven });
      const outcome = await runAttached(ctx, inputOf({ command: ['sh', '-c', 'echo cold run; echo to stderr >&2; exit 4'], ...(asked.warm !== undefined ? { warm: asked.warm } : {}) }), { remove: true });
      assert.equal(killedAtExec, member.id, 'the run claimed the idle member and tried to exec in it');
      const r = outcome.reply;
      assert.equal(outcome.ok, false, JSON.stringify(outcome));
      assert.equal(r.exit_code, 4, JSON.stringify(r));
      assert.equal(outcome.error?.code, 'nonzero_exit');
      assert.equal(r.stdout, 'cold run\n');
      assert.equal(r.stderr, 'to stderr\n');
      assert.equal(r.warm, false);
      const notice = (r.result as { notice?: string } | undefined)?.notice;
      if (asked.warm) assert.match(String(notice), /pool "dead" had no live container/);
      else assert.equal(notice, undefined, 'no notice when warm: true was not asked');
      const cold = (r.container as { id: string }).id;
      assert.notEqual(cold, member.id, 'a new container ran it');
      assert.deepEqual(metrics.misses.slice(missesBefore), ['empty']);
      await outcome.afterSettle?.();
      assert.equal(await engine.containers.inspect(cold), undefined, 'the cold container is removed after the reply');
      await eventually('dead member removed', async () => (await engine.containers.inspect(member.id)) === undefined || undefined);
      await oneIdle('dead', member.id);
    }
    assert.deepEqual(metrics.hits, [], 'no run counted as a hit');
  });

  it('a claim of a name a run of this agent holds is taken; a redelivery answered so does not remove the live holder; released, the id claims again', async () => {
    const member = await oneIdle('dead');
    const key = member.labels[LABEL.poolKey] ?? '';
    const id = `dup-${runId}`;
    const first = await pools.claim(key, claimName(id, undefined));
    assert.ok(first && first !== 'taken', 'the first delivery claims the member');
    // The pool is empty now: without the guard these claims would answer "empty" (undefined), not "taken".
    assert.equal(await pools.claim(key, claimName(id, undefined)), 'taken', 'while its rename may still be in flight');
    assert.equal(await pools.claim(key, claimName(id, undefined)), 'taken', 'a redelivery, after the rename');
    assert.equal(await pools.claim(key, claimName(`other-${runId}`, undefined)), undefined, 'another request finds the pool empty');
    // A redelivery answered "taken" cleans up after an earlier process, never after a live run of this agent.
    const outcome = takenOutcome({ ...ctxFor(id), redelivered: true }, first.name);
    await outcome.afterSettle?.();
    assert.equal((await engine.containers.inspect(first.id))?.state.running, true, 'the holder still runs');
    await pools.release(first.id);
    assert.equal(pools.heldHere(first.name), false);
    await oneIdle('dead', member.id);
    const again = await pools.claim(key, claimName(id, undefined));
    assert.ok(again && again !== 'taken', 'after the release the id claims again');
    await pools.release(again.id);
    await oneIdle('dead', again.id);
  });

  it('a claim whose rename is refused (another container has the name) never starts the exec it made beside, and the member stays idle', async () => {
    const member = await oneIdle('dead');
    const key = member.labels[LABEL.poolKey] ?? '';
    const name = claimName(`held-elsewhere-${runId}`, undefined);
    // Another agent's (or an earlier process's) claim of this request: a container of that name this agent does not hold.
    const { id: holder } = await engine.containers.create({ image: TEST_IMAGE, entrypoint: ['sleep', '3600'], name, labels, stopTimeoutSec: 0 });
    const prepared: string[] = [];
    const taken = await pools.claim(key, name, (m) => {
      prepared.push(m.id);
      return engine.exec.prepare(m.id, { cmd: ['sh', '-c', 'echo ran > /claimed-by-mistake'] });
    });
    assert.equal(taken, 'taken');
    assert.deepEqual(prepared, [member.id], 'the exec was made on the member, beside the rename');
    const look = await engine.exec.run(member.id, { cmd: ['sh', '-c', 'cat /claimed-by-mistake 2>/dev/null || echo absent'] });
    assert.equal(look.output.stdout, 'absent\n', 'the exec made for the refused claim never ran');
    const again = await pools.claim(key, claimName(`next-${runId}`, undefined));
    assert.ok(again && again !== 'taken' && again.id === member.id, 'the member went back to the idle ones');
    await pools.release(again.id);
    await engine.containers.remove(holder, { force: true });
    await oneIdle('dead', member.id);
  });

  it("a redelivery answered conflict removes its own agent's earlier container, never another agent's", async () => {
    const made: string[] = [];
    const named = async (request: string, owner: string) => {
      const name = claimName(request, undefined);
      const { id } = await engine.containers.create({ image: TEST_IMAGE, entrypoint: ['sleep', '3600'], name, labels: { ...labels, [LABEL.pool]: 'dead', [LABEL.managed]: 'true', [LABEL.poolOwner]: owner }, stopTimeoutSec: 0 });
      await engine.containers.start(id);
      made.push(id);
      return { id, name };
    };
    const theirs = await named(`theirs-${runId}`, `another-agent-${runId}`);
    const mine = await named(`mine-${runId}`, `dead-${runId}`);
    await takenOutcome({ ...ctxFor(`theirs-${runId}`), redelivered: true }, theirs.name).afterSettle?.();
    await takenOutcome({ ...ctxFor(`mine-${runId}`), redelivered: true }, mine.name).afterSettle?.();
    await eventually('own earlier container removed', async () => (await engine.containers.inspect(mine.id)) === undefined || undefined);
    assert.equal((await engine.containers.inspect(theirs.id))?.state.running, true, "another agent's container still runs");
    await Promise.all(made.map((id) => engine.containers.remove(id, { force: true }).catch(() => undefined)));
  });

  it('an exec that fails after its command started does not send the run cold (it would run twice)', async () => {
    await oneIdle('dead');
    const ctx = ctxFor(`started-${runId}`);
    const input = inputOf({ command: ['echo', 'once'] });
    const spec = resolvedSpec(policy, buildRunSpec(input, { requestId: ctx.requestId, bodyHash: ctx.bodyHash, channel: ctx.channel, image: TEST_IMAGE, uuid: '0', attached: true }));
    const claim = await claimWarm(ctx, input, spec, true, false);
    assert.equal(claim.kind, 'claimed', JSON.stringify(claim));
    if (claim.kind !== 'claimed') return;
    const missesBefore = metrics.misses.length;
    // The real exec runs; then the engine reports the container gone, as when it is removed while the command runs.
    const removedUnder: ContainerEngine = Object.assign(Object.create(engine) as ContainerEngine, {
      exec: { run: async (id: string, req: Parameters<ContainerEngine['exec']['run']>[1]) => {
        await engine.exec.run(id, req);
        throw new BosunError('not_found', `exec in ${id}: no such container`);
      } },
    });
    await assert.rejects(runClaimed({ ...ctx, engine: removedUnder }, claim.claimed, spec, { askedWarm: false, timeoutMs: 30_000, outputLimit: 1 << 20, replyLimit: 1 << 20 }), /no such container/);
    assert.equal(metrics.misses.length, missesBefore, 'not counted as a cold miss');
    await eventually('member removed', async () => (await engine.containers.inspect(claim.claimed.id)) === undefined || undefined);
    await oneIdle('dead', claim.claimed.id);
  });

  it("an id-less redelivery that finds the pool empty looks for its first delivery's warm container once, then runs cold", async () => {
    const member = await oneIdle('dead');
    const hold = await pools.claim(member.labels[LABEL.poolKey] ?? '', claimName(`hold-${runId}`, undefined));
    assert.ok(hold && hold !== 'taken', 'the only member is taken: the pool is empty');
    const byPrefix: string[] = [];
    // The real engine, counting the look-ups by name (the body prefix's list).
    const containers = new Proxy(engine.containers, {
      get(t, p) {
        const v = Reflect.get(t, p, t) as unknown;
        if (p !== 'list' || typeof v !== 'function') return typeof v === 'function' ? v.bind(t) : v;
        return (o: Parameters<ContainerEngine['containers']['list']>[0]) => {
          if (o?.name) byPrefix.push(o.name);
          return t.list(o);
        };
      },
    });
    const counting = Object.assign(Object.create(engine) as ContainerEngine, { containers });
    const ctx = { ...ctxFor(`idless-${runId}`, { engine: counting }), redelivered: true };
    try {
      const outcome = await runAttached(ctx, inputOf({ command: ['echo', 'cold after all'] }), { remove: true });
      assert.deepEqual([outcome.reply.stdout, outcome.reply.warm], ['cold after all\n', false], JSON.stringify(outcome));
      assert.equal(byPrefix.filter((n) => n.startsWith('bosun-warm-b')).length, 1, `one look-up by body prefix: ${JSON.stringify(byPrefix)}`);
      await outcome.afterSettle?.();
    } finally {
      await pools.release(hold.id);
    }
    await oneIdle('dead', member.id);
  });
});

describe('a dead member through a real agent', () => {
  let agent: AgentProcess | undefined;
  let client: TestClient | undefined;
  const logs = capturingLogger();
  before(async () => {
    // The sweep held off (10 min): the killed member stays counted idle, so the run claims it and finds it dead at exec.
    agent = await startTestAgent({ poolsFile: poolsFile('agentdead'), poolSweepMs: 600_000, log: logs.log, http: '127.0.0.1:0' });
    client = await TestClient.connect();
  });
  after(async () => {
    await client?.close();
    await agent?.stop();
    await removeTestContainers(engine, runId);
  });

  it('the reply is a correct cold run with the notice; the log shows the dead-at-exec path; the pool refills', async () => {
    const member = await oneIdle('agentdead');
    await killDead(member.id);
    const r = await client!.request('start_container.response_channel', { image: TEST_IMAGE, labels, response_channel: `dead-${runId}-sink`, warm: true, command: ['sh', '-c', 'echo via agent; exit 5'] });
    assert.equal(r.ok, false, JSON.stringify(r));
    assert.equal(r.exit_code, 5, JSON.stringify(r));
    assert.equal(r.stdout, 'via agent\n');
    assert.equal(r.warm, false);
    assert.match(String((r.result as { notice?: string } | undefined)?.notice), /warm: true was asked, but the run went cold: pool "agentdead" had no live container/);
    assert.notEqual((r.container as { id: string }).id, member.id);
    const lines = logs.lines();
    assert.ok(lines.some((l) => l.includes(COLD_LINE) && l.includes('agentdead')), 'the run found the member dead at exec');
    assert.ok(!lines.some((l) => l.includes(SWEEP_LINE)), 'the sweep did not drop it first');
    await eventually('dead member removed', async () => (await engine.containers.inspect(member.id)) === undefined || undefined);
    await oneIdle('agentdead', member.id);
    const m = await agent!.http!.inject({ method: 'GET', url: '/metrics' });
    assert.match(m.body, /bosun_warm_misses_total\{reason="empty"\} 1\b/);
    assert.doesNotMatch(m.body, /bosun_warm_hits_total\{pool="agentdead"\} [1-9]/);
  });
});
