import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_POLICY, PolicySchema, applyPolicyDefaults, enforcePolicy as enforcePurePolicy, imageAllowed, isWithin } from '../../../src/domain/policy.js';
import { enforcePolicyOnHost as enforcePolicy } from '../../../src/host/policy.js';
import { isBosunError } from '../../../src/domain/errors.js';
import { bosunTestDir, removeBosunTestDir } from '../../helpers/bosun-root.js';

const denied = (field: string, message?: RegExp) => (e: unknown) =>
  isBosunError(e) && e.code === 'policy_denied' && e.field === field && (message === undefined || message.test(e.message));
const base = { image: 'x' };
const bind = (source: string) => ({ ...base, mounts: [{ type: 'bind' as const, source, target: '/w' }] });

describe('policy', () => {
  const dir = bosunTestDir('policy');
  mkdirSync(join(dir, 'sub'));
  symlinkSync('/etc', join(dir, 'sub', 'etc'));
  const link = `${dir}-link`;
  symlinkSync(dir, link);
  after(() => {
    rmSync(link, { force: true });
    removeBosunTestDir(dir);
  });

  it('path containment is by path segment, not string prefix', () => {
    assert.ok(isWithin('/tmp/a', '/tmp'));
    assert.ok(isWithin('/tmp', '/tmp/'));
    assert.ok(!isWithin('/tmpfoo', '/tmp'));
    assert.ok(!isWithin('/tmp/../etc', '/tmp'));
  });

  it('the default roots are /srv/bosun only', () => {
    assert.deepEqual(DEFAULT_POLICY.bind_roots, ['/srv/bosun']);
    assert.deepEqual(DEFAULT_POLICY.build_roots, ['/srv/bosun']);
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, bind('/tmp/work')), denied('volumes', /outside the allowed roots/));
  });

  it('refuses the docker socket, host paths outside the roots, privileged, host network, caps and devices', () => {
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, bind('/var/run/docker.sock')), denied('volumes'));
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, bind('/home/u')), denied('volumes'));
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, bind('/')), denied('volumes'));
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, { ...base, privileged: true }), denied('privileged'));
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, { ...base, networkMode: 'host' }), denied('network'));
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, { ...base, capAdd: ['SYS_ADMIN'] }), denied('cap_add'));
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, { ...base, devices: ['/dev/sda'] }), denied('devices'));
  });

  it('binds: only <root>/<name>, a real path — never the root, a deeper path or a symlink', () => {
    enforcePolicy(DEFAULT_POLICY, bind(dir));
    enforcePolicy(DEFAULT_POLICY, bind(`${dir}/`));
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, bind('/srv/bosun')), denied('volumes', /is a bind root/));
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, bind('/srv')), denied('volumes'));
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, bind(join(dir, 'sub'))), denied('volumes', /directly in a bind root/));
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, bind(join(dir, 'sub', 'etc'))), denied('volumes', /directly in a bind root/));
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, bind(link)), denied('volumes', /is a symlink/));
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, bind(`${dir}-missing`)), (e: unknown) => isBosunError(e) && e.code === 'not_found' && e.field === 'volumes');
  });

  it('the pure checks look at the path only; the host checks add what the disk says', () => {
    const link = join(dir, '..', `${dir.split('/').at(-1)}-link2`);
    symlinkSync(dir, link);
    try {
      enforcePurePolicy(DEFAULT_POLICY, bind(link));
      enforcePurePolicy(DEFAULT_POLICY, bind(`${dir}-missing`));
      assert.throws(() => enforcePolicy(DEFAULT_POLICY, bind(link)), denied('volumes', /is a symlink/));
      assert.throws(() => enforcePurePolicy(DEFAULT_POLICY, bind('/tmp/work')), denied('volumes', /outside the allowed roots/));
    } finally {
      rmSync(link);
    }
  });

  it('binds: a nested root cannot be bound from the outer root', () => {
    const p = PolicySchema.parse({ bind_roots: ['/srv/bosun', dir] });
    assert.throws(() => enforcePolicy(p, bind(dir)), denied('volumes', /is a bind root/));
    enforcePolicy(p, bind(join(dir, 'sub')));
  });

  it('binds: a root that others can write (like /tmp) is refused', () => {
    const open = mkdtempSync('/srv/bosun/test-open-');
    try {
      mkdirSync(join(open, 'x'));
      chmodSync(open, 0o777);
      const p = PolicySchema.parse({ bind_roots: [open] });
      assert.throws(() => enforcePolicy(p, bind(join(open, 'x'))), denied('volumes', /is not safe/));
      assert.throws(() => enforcePolicy(PolicySchema.parse({ bind_roots: ['/tmp'] }), bind('/tmp')), denied('volumes'));
    } finally {
      rmSync(open, { recursive: true, force: true });
    }
  });

  it('namespaces: container:X only for peers of the same stack; never for runs', () => {
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, { ...base, networkMode: 'container:db' }), denied('network', /runs may not share/));
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, { ...base, pidMode: 'container:db' }), denied('pid'));
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, { ...base, pidMode: 'host' }), denied('pid'));
    const scope = { peers: new Set(['s-db']) };
    enforcePolicy(DEFAULT_POLICY, { ...base, networkMode: 'container:s-db', pidMode: 'container:s-db' }, '', scope);
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, { ...base, networkMode: 'container:other' }, '', scope), denied('network', /outside this stack/));
    enforcePolicy(DEFAULT_POLICY, { ...base, networkMode: 'bridge' });
  });

  it('ports: loopback by default, all interfaces and ports below 1024 only when the policy says so', () => {
    const spec = applyPolicyDefaults(DEFAULT_POLICY, { ...base, portBindings: [{ containerPort: '80/tcp', hostIp: '', hostPort: '8080' }] });
    assert.equal(spec.portBindings?.[0]?.hostIp, '127.0.0.1');
    enforcePolicy(DEFAULT_POLICY, spec);
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, { ...base, portBindings: [{ containerPort: '80/tcp', hostIp: '0.0.0.0', hostPort: '8080' }] }), denied('ports', /every interface|0\.0\.0\.0/));
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, { ...base, portBindings: [{ containerPort: '80/tcp', hostIp: '127.0.0.1', hostPort: '80' }] }), denied('ports', /below 1024/));
    const open = PolicySchema.parse({ ports: { allowed_host_ips: ['0.0.0.0'], min_host_port: 1 } });
    const kept = applyPolicyDefaults(open, { ...base, portBindings: [{ containerPort: '80/tcp', hostIp: '', hostPort: '80' }] });
    assert.equal(kept.portBindings?.[0]?.hostIp, '');
    enforcePolicy(open, kept);
  });

  it('working_dir under /proc is refused', () => {
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, { ...base, workingDir: '/proc/self/fd/7' }), denied('working_dir'));
    assert.throws(() => enforcePolicy(DEFAULT_POLICY, { ...base, workingDir: '//proc' }), denied('working_dir'));
    enforcePolicy(DEFAULT_POLICY, { ...base, workingDir: '/procfoo' });
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
