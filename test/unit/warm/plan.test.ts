import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LABEL } from '../../../src/domain/labels.js';
import { DEFAULT_POLICY, PolicySchema } from '../../../src/domain/policy.js';
import { buildRunSpec } from '../../../src/actions/run-spec.js';
import { attachedRunSchema } from '../../../src/actions/schemas/run.js';
import type { ContainerSpec } from '../../../src/domain/engine/index.js';
import { parsePoolFile } from '../../../src/warm/pool-file.js';
import { poolTemplate, resolvedSpec } from '../../../src/warm/pool-spec.js';
import { bodyClaimPrefix, claimName, claimNameFor, execArgv, planAdoption, planRefill, poolKey, selectOwn, warmEligibility } from '../../../src/warm/plan.js';
import { stableAgentName } from '../../../src/app/agent-name.js';

const base: ContainerSpec = { image: 'img:1', labels: { [LABEL.managed]: 'true', team: 'a' }, resources: { memory: 1, nanoCpus: 2 } };

describe('poolKey', () => {
  it('ignores what a run sets at exec time and the per-request labels', () => {
    const run: ContainerSpec = { ...base, name: 'x', cmd: ['echo'], env: ['A=1'], workingDir: '/w', labels: { ...base.labels, [LABEL.request]: 'r1', 'bosun.body-hash': 'h', [LABEL.publisher]: 'p' } };
    assert.equal(poolKey(run), poolKey(base));
  });
  it('changes with every create-time setting', () => {
    const k = poolKey(base);
    const variants: ContainerSpec[] = [
      { ...base, image: 'img:2' },
      { ...base, user: 'nobody' },
      { ...base, labels: { ...base.labels, team: 'b' } },
      { ...base, mounts: [{ type: 'bind', source: '/srv/bosun/x', target: '/x' }] },
      { ...base, networkMode: 'none' },
      { ...base, resources: { memory: 2, nanoCpus: 2 } },
      { ...base, privileged: true },
      { ...base, capAdd: ['NET_ADMIN'] },
      { ...base, runtime: 'crun' },
    ];
    for (const v of variants) assert.notEqual(poolKey(v), k, JSON.stringify(v));
  });
  it('does not depend on the order of labels or resource fields', () => {
    assert.equal(poolKey({ ...base, labels: { team: 'a', [LABEL.managed]: 'true' }, resources: { nanoCpus: 2, memory: 1 } }), poolKey(base));
  });
});

describe('warmEligibility and execArgv', () => {
  it('named, built, kept or restarting runs and warm:false go cold', () => {
    assert.equal(warmEligibility({ remove: true }), undefined);
    assert.equal(warmEligibility({ remove: true, warm: false }), 'opted_out');
    assert.equal(warmEligibility({ remove: true, name: 'n' }), 'named');
    assert.equal(warmEligibility({ remove: true, build: true }), 'build');
    assert.equal(warmEligibility({ remove: false }), 'keep');
    assert.equal(warmEligibility({ remove: true, restartPolicy: { name: 'always' } }), 'restart_policy');
    assert.equal(warmEligibility({ remove: true, ports: true }), 'ports');
    assert.equal(warmEligibility({ remove: true, ports: false }), undefined);
  });
  it("follows Docker's rule for entrypoint and command", () => {
    const image = { entrypoint: ['/ep'], cmd: ['default'] };
    assert.deepEqual(execArgv({}, image), ['/ep', 'default']);
    assert.deepEqual(execArgv({ cmd: ['mine'] }, image), ['/ep', 'mine']);
    assert.deepEqual(execArgv({ entrypoint: ['sh'] }, image), ['sh']);
    assert.deepEqual(execArgv({ entrypoint: ['sh'], cmd: ['-c', 'x'] }, image), ['sh', '-c', 'x']);
    assert.deepEqual(execArgv({}, {}), []);
  });
});

describe('planRefill', () => {
  it('fills up to size, counting containers being made, and replaces expired ones', () => {
    assert.deepEqual(planRefill({ size: 3, refillConcurrency: 3, maxIdleMs: 1000, idle: [], filling: 0 }, 0), { expire: [], create: 3 });
    assert.deepEqual(planRefill({ size: 3, refillConcurrency: 3, maxIdleMs: 1000, idle: [{ id: 'a', since: 0 }], filling: 1 }, 10), { expire: [], create: 1 });
    assert.deepEqual(planRefill({ size: 2, refillConcurrency: 2, maxIdleMs: 1000, idle: [{ id: 'a', since: 0 }, { id: 'b', since: 900 }], filling: 0 }, 1000), { expire: ['a'], create: 1 });
    assert.deepEqual(planRefill({ size: 1, refillConcurrency: 1, maxIdleMs: 1000, idle: [{ id: 'a', since: 0 }], filling: 2 }, 0), { expire: [], create: 0 });
  });
  it('makes at most refill_concurrency at once, counting those being made', () => {
    assert.deepEqual(planRefill({ size: 8, refillConcurrency: 1, maxIdleMs: 1000, idle: [], filling: 0 }, 0), { expire: [], create: 1 });
    assert.deepEqual(planRefill({ size: 8, refillConcurrency: 1, maxIdleMs: 1000, idle: [], filling: 1 }, 0), { expire: [], create: 0 });
    assert.deepEqual(planRefill({ size: 8, refillConcurrency: 3, maxIdleMs: 1000, idle: [{ id: 'a', since: 0 }], filling: 1 }, 0), { expire: [], create: 2 });
  });
  it('a pool file takes refill_concurrency as a positive whole number', () => {
    assert.equal(parsePoolFile('pools: [{ image: a, size: 4, refill_concurrency: 1 }]').pools[0]?.refill_concurrency, 1);
    assert.throws(() => parsePoolFile('pools: [{ image: a, size: 4, refill_concurrency: 0 }]'), /refill_concurrency/);
  });
});

describe('planAdoption', () => {
  const pools = [{ name: 'p', key: 'k', size: 2 }];
  it('adopts running unclaimed members of the current settings up to size; removes the rest; tombstones claimed ones', () => {
    const plan = planAdoption([
      { id: '1', pool: 'p', key: 'k', running: true, unclaimed: true },
      { id: '2', pool: 'p', key: 'old', running: true, unclaimed: true },
      { id: '3', pool: 'p', key: 'k', running: false, unclaimed: true },
      { id: '4', pool: 'gone', key: 'k', running: true, unclaimed: true },
      { id: '5', pool: 'p', key: 'k', running: true, unclaimed: false },
      { id: '6', pool: 'p', key: 'k', running: true, unclaimed: true },
      { id: '7', pool: 'p', key: 'k', running: true, unclaimed: true },
    ], pools);
    assert.deepEqual(plan, { adopt: { p: ['1', '6'] }, remove: ['2', '3', '4', '7'], tombstone: ['5'] });
  });
});

describe('selectOwn (pool containers an agent may adopt or remove at start)', () => {
  it("keeps only this agent's containers; another agent's and unlabelled ones are counted and left alone", () => {
    const found = [
      { id: 'a1', owner: 'host:aaa' },
      { id: 'b1', owner: 'host:bbb' },
      { id: 'a2', owner: 'host:aaa' },
      { id: 'old', owner: undefined },
      { id: 'empty', owner: '' },
      { id: 'b2', owner: 'other-host:aaa' },
    ];
    const sel = selectOwn(found, 'host:aaa');
    assert.deepEqual(sel.own.map((c) => c.id), ['a1', 'a2']);
    assert.equal(sel.others, 2);
    assert.equal(sel.unowned, 2);
    assert.deepEqual(selectOwn(found, 'host:ccc').own, []);
  });

  it("another agent's claimed (running) container is neither tombstoned nor removed: planAdoption never sees it", () => {
    const found = [
      { id: 'mine', owner: 'me', pool: 'p', key: 'k', running: true, unclaimed: true },
      { id: 'theirs-idle', owner: 'them', pool: 'p', key: 'k', running: true, unclaimed: true },
      { id: 'theirs-busy', owner: 'them', pool: 'p', key: 'k', running: true, unclaimed: false },
    ];
    const plan = planAdoption(selectOwn(found, 'me').own, [{ name: 'p', key: 'k', size: 1 }]);
    assert.deepEqual(plan, { adopt: { p: ['mine'] }, remove: [], tombstone: [] });
  });

  it('the owner name is stable for one state dir and differs between two', () => {
    assert.equal(stableAgentName('/var/lib/bosun'), stableAgentName('/var/lib/bosun/'));
    assert.equal(stableAgentName('/var/lib/bosun'), stableAgentName('/var/lib/../lib/bosun'));
    assert.notEqual(stableAgentName('/var/lib/bosun'), stableAgentName('/var/lib/bosun-2'));
    assert.match(stableAgentName('/x'), /^.+:[0-9a-f]{12}$/);
  });
});

describe('claimName', () => {
  it('is stable per request and publisher, and a valid container name', () => {
    assert.equal(claimName('r', undefined), claimName('r', undefined));
    assert.notEqual(claimName('r', 'alice'), claimName('r', 'bob'));
    assert.match(claimName('weird id/with:chars', undefined), /^bosun-warm-[0-9a-f]{24}$/);
  });

  it("an id bosun made names the claim after the body, then the id: a copy meets its delivery, a redelivery finds it by prefix, twins differ", () => {
    const first = { requestId: 'rand-1', idGenerated: true, bodyHash: 'h', publisher: 'alice' };
    const name = claimNameFor(first);
    assert.match(name, /^bosun-warm-b[0-9a-f]{16}-[0-9a-f]{12}$/);
    assert.equal(claimNameFor({ ...first }), name, "the agent's copy (same random id as its message id, same body) conflicts on the same name");
    assert.ok(name.startsWith(bodyClaimPrefix('h', 'alice')), 'a redelivery (fresh random id) finds it by its body prefix');
    assert.ok(!claimNameFor({ ...first, requestId: 'rand-2' }).startsWith(name), 'an equal fresh message gets another name');
    assert.notEqual(claimNameFor({ ...first, requestId: 'rand-2' }), name);
    assert.ok(!name.startsWith(bodyClaimPrefix('h', 'bob')), "another publisher's equal body is not matched");
    assert.equal(claimNameFor({ ...first, idGenerated: false }), claimName('rand-1', 'alice'), 'a sender-given id keeps its own name, whatever the body');
  });
});

describe('pool file and template', () => {
  it('gives pools the spec a run with the same fields gets, and a key equal to that run', () => {
    const f = parsePoolFile('pools:\n  - image: bosun-busybox:latest\n    size: 2\n    match: { labels: { team: a } }\n');
    const t = poolTemplate(f.pools[0]!, DEFAULT_POLICY);
    assert.equal(t.name, 'bosun-busybox');
    assert.equal(t.spec.labels?.[LABEL.pool], 'bosun-busybox');
    assert.equal(t.spec.resources?.memory, 512 * 1024 * 1024, 'the policy default limits apply');
    assert.deepEqual(t.spec.entrypoint, ['sleep', '2147483647']);
  });
  it('refuses too many containers, duplicate names, reserved labels and what the policy forbids', () => {
    assert.throws(() => parsePoolFile('pools:\n  - { image: a, size: 40 }\n  - { image: b, size: 40 }\n'), /at most 64/);
    assert.throws(() => parsePoolFile('pools:\n  - { image: a, size: 1 }\n  - { image: a, size: 1 }\n'), /two pools are named "a"/);
    const f = parsePoolFile('pools:\n  - { image: a, size: 1, match: { labels: { bosun.pool: x } } }\n  - { image: b, size: 1, match: { cap_add: [SYS_ADMIN] } }\n');
    assert.throws(() => poolTemplate(f.pools[0]!, DEFAULT_POLICY), /pool "a": match.labels: "bosun.pool" is reserved/);
    assert.throws(() => poolTemplate(f.pools[1]!, DEFAULT_POLICY), (e: Error & { code?: string }) => e.code === 'policy_denied' && /pool "b"/.test(e.message));
  });
});

describe('pools on another OCI runtime', () => {
  const runOf = (input: Record<string, unknown>) =>
    poolKey(resolvedSpec(DEFAULT_POLICY, buildRunSpec(attachedRunSchema.parse({ image: 'bosun-busybox:latest', response_channel: 'r', ...input }), { requestId: 'q', bodyHash: 'h', channel: 'c', image: 'bosun-busybox:latest', uuid: '1', attached: true })));
  it('a pool with match.runtime makes its members under it and is taken only by runs naming that runtime', () => {
    const f = parsePoolFile('pools:\n  - { name: fast, image: bosun-busybox:latest, size: 1, match: { runtime: crun } }\n  - { name: plain, image: bosun-busybox:latest, size: 1 }\n');
    const [fast, plain] = [poolTemplate(f.pools[0]!, DEFAULT_POLICY), poolTemplate(f.pools[1]!, DEFAULT_POLICY)];
    assert.equal(fast.spec.runtime, 'crun');
    assert.equal(plain.spec.runtime, undefined);
    assert.notEqual(fast.key, plain.key);
    assert.equal(runOf({ runtime: 'crun' }), fast.key);
    assert.equal(runOf({}), plain.key);
    // The engine's default runtime is not known here: naming runc is not taken to mean "no runtime".
    assert.notEqual(runOf({ runtime: 'runc' }), plain.key);
  });
  it('a runtime the policy does not allow refuses the pool, naming it and the field', () => {
    const f = parsePoolFile('pools:\n  - { name: fast, image: bosun-busybox:latest, size: 1, match: { runtime: crun } }\n');
    const policy = PolicySchema.parse({ allowed_runtimes: ['runc'] });
    assert.throws(() => poolTemplate(f.pools[0]!, policy), (e: Error & { code?: string; field?: string }) => e.code === 'policy_denied' && e.field === 'pools.fast.runtime' && /pool "fast": runtime "crun"/.test(e.message));
    assert.throws(() => parsePoolFile('pools:\n  - { image: a, size: 1, match: { runtime: "Bad Name" } }\n'), /runtime/);
  });
});

describe('runtime policy', () => {
  it('allows the listed runtimes and refuses others, naming the field', async () => {
    const { enforcePolicy } = await import('../../../src/domain/policy.js');
    enforcePolicy(DEFAULT_POLICY, { image: 'a', runtime: 'crun' });
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, { image: 'a', runtime: 'kata' }), (e: Error & { field?: string }) => e.field === 'runtime' && /allowed_runtimes/.test(e.message));
  });
});
