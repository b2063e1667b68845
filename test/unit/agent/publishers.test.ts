import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isBosunError } from '../../../src/domain/errors.js';
import { policyFor } from '../../../src/domain/policy/publishers.js';
import { DEFAULT_POLICY, PolicySchema } from '../../../src/domain/policy/schema.js';

describe('publisher policies (pure)', () => {
  const policy = PolicySchema.parse({
    bind_roots: ['/srv/bosun'],
    quotas: { runs_per_minute: 100 },
    users: { ci: { bind_roots: ['/data/ci'], quotas: { max_running_detached_per_publisher: 2 }, max_limits: { memory: '1g' } }, ops: {} },
  });

  it('without users every message gets the base policy, with or without a user id', () => {
    assert.equal(policyFor(DEFAULT_POLICY, undefined), DEFAULT_POLICY);
    assert.equal(policyFor(DEFAULT_POLICY, 'anyone'), DEFAULT_POLICY);
  });

  it('with users, a message without user_id or from an unnamed user is refused (publisher_unknown, field user_id)', () => {
    for (const who of [undefined, '', 'mallory', 'constructor', '__proto__']) {
      assert.throws(() => policyFor(policy, who), (e: unknown) => isBosunError(e) && e.code === 'publisher_unknown' && e.field === 'user_id' && !e.retryable, String(who));
    }
  });

  it("a user's fields replace the base ones; limits and quotas merge key by key; fields the user leaves out stay the base's", () => {
    const ci = policyFor(policy, 'ci');
    assert.deepEqual(ci.bind_roots, ['/data/ci']);
    assert.equal(ci.quotas.runs_per_minute, 100);
    assert.equal(ci.quotas.max_running_detached_per_publisher, 2);
    assert.equal(ci.max_limits.memory, '1g');
    assert.equal(ci.max_limits.cpus, DEFAULT_POLICY.max_limits.cpus);
    assert.equal(ci.users, undefined);
    const ops = policyFor(policy, 'ops');
    assert.deepEqual(ops.bind_roots, ['/srv/bosun']);
    assert.equal(policyFor(policy, 'ci'), ci, 'merged once per user');
  });
});
