import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_POLICY, PolicySchema, enforcePolicy, imageAllowed, isWithin } from '../../../src/domain/policy.js';
import { isBosunError } from '../../../src/domain/errors.js';

const denied = (field: string) => (e: unknown) => isBosunError(e) && e.code === 'policy_denied' && e.field === field;

describe('policy (pure)', () => {
  it('path containment is by path segment, not string prefix', () => {
    assert.ok(isWithin('/tmp/a', '/tmp'));
    assert.ok(isWithin('/tmp', '/tmp/'));
    assert.ok(!isWithin('/tmpfoo', '/tmp'));
    assert.ok(!isWithin('/tmp/../etc', '/tmp'));
  });

  it('refuses the docker socket, host paths outside the roots, privileged, host network, caps and devices', () => {
    const base = { image: 'x' };
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, { ...base, mounts: [{ type: 'bind', source: '/var/run/docker.sock', target: '/s' }] }), denied('volumes'));
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, { ...base, mounts: [{ type: 'bind', source: '/home/u', target: '/h' }] }), denied('volumes'));
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, { ...base, mounts: [{ type: 'bind', source: '/', target: '/h' }] }), denied('volumes'));
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, { ...base, privileged: true }), denied('privileged'));
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, { ...base, networkMode: 'host' }), denied('network'));
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, { ...base, capAdd: ['SYS_ADMIN'] }), denied('cap_add'));
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, { ...base, devices: ['/dev/sda'] }), denied('devices'));
    enforcePolicy(DEFAULT_POLICY, { ...base, mounts: [{ type: 'bind', source: '/tmp/work', target: '/w' }] });
  });

  it('image allow and deny globs, with :latest implied', () => {
    const p = PolicySchema.parse({ images: { allow: ['registry.local/*', 'busybox:*'], deny: ['busybox:evil'] } });
    assert.ok(imageAllowed(p, 'registry.local/app:1'));
    assert.ok(imageAllowed(p, 'busybox'));
    assert.ok(!imageAllowed(p, 'busybox:evil'));
    assert.ok(!imageAllowed(p, 'nginx'));
  });

  it('policy files are strict about their own fields', () => {
    assert.throws(() => PolicySchema.parse({ alow_privileged: true }));
  });
});
