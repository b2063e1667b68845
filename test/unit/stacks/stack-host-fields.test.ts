/**
 * Stack fields that reach the host: refused by the Compose schema (never accepted), or
 * accepted and refused by the policy — none is dropped silently.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StackMessage, enforceStackPolicy, loadStackOf, withStackDefaults } from '../../../src/actions/stack.js';
import { isBosunError } from '../../../src/domain/errors.js';
import { DEFAULT_POLICY, PolicySchema } from '../../../src/domain/policy.js';
import { desiredContainers } from '../../../src/planner/stack/containers.js';

const load = (inline: string) => loadStackOf(StackMessage.parse({ action: 'plan', name: 's', stack: { inline } }), DEFAULT_POLICY);
const svc = (body: string) => `services:\n  app:\n    image: busybox\n${body.split('\n').map((l) => `    ${l}`).join('\n')}\n`;
const check = (inline: string, policy = DEFAULT_POLICY) => enforceStackPolicy(policy, withStackDefaults(policy, load(inline)));

function refused(fn: () => unknown, code: string, field: RegExp, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isBosunError(e), String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.field ?? '', field, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

describe('stack: host-reaching fields', () => {
  for (const [key, value] of [
    ['ipc', 'host'], ['uts', 'host'], ['userns_mode', 'host'], ['cgroup', 'host'], ['cgroup_parent', '/'],
    ['sysctls', '{net.ipv4.ip_forward: 1}'], ['security_opt', '[seccomp=unconfined]'], ['device_cgroup_rules', '["a *:* rwm"]'],
    ['volumes_from', '[other]'], ['isolation', 'process'],
  ] as const) {
    it(`${key}: ${value} is refused by the schema, naming the field`, () => {
      refused(() => load(svc(`${key}: ${value}`)), 'invalid_message', new RegExp(`services\\.app\\.${key}`), /unknown key/);
    });
  }

  it('network_mode / pid container:X outside the stack are refused; service:X and same-stack names pass', () => {
    refused(() => check(svc('network_mode: container:victim')), 'policy_denied', /stack\.services\.app\.network/, /outside this stack/);
    refused(() => check(svc('pid: container:victim')), 'policy_denied', /stack\.services\.app\.pid/);
    refused(() => check(svc('pid: host')), 'policy_denied', /\.pid$/);
    refused(() => check(svc('network_mode: host')), 'policy_denied', /\.network$/);
    const ok = 'services:\n  db:\n    image: busybox\n  app:\n    image: busybox\n    network_mode: service:db\n    pid: container:s-db\n';
    check(ok);
    assert.equal(desiredContainers(load(ok), load(ok).services.app!)[0]!.spec.networkMode, 'container:s-db');
  });

  it('binds: only <root>/<name> (no /tmp, no deeper path)', () => {
    refused(() => check(svc('volumes: ["/tmp/x:/e"]')), 'policy_denied', /volumes/, /outside the allowed roots/);
    refused(() => check(svc('volumes: ["/srv/bosun/a/b:/e"]')), 'policy_denied', /volumes/, /directly in a bind root/);
    refused(() => check(svc('volumes: ["/var/run/docker.sock:/s"]')), 'policy_denied', /volumes/, /forbidden/);
  });

  it('logging drivers outside allowed_log_drivers are refused', () => {
    refused(() => check(svc('logging: {driver: syslog, options: {syslog-address: "tcp://10.0.0.1:514"}}')), 'policy_denied', /logging\.driver/);
    refused(() => check(svc('logging: {drivr: json-file}')), 'invalid_message', /logging\.drivr/);
    check(svc('logging: {driver: json-file}'));
    check(svc('logging: {driver: gelf}'), PolicySchema.parse({ allowed_log_drivers: ['gelf'] }));
  });

  it('volume driver_opts are refused (not dropped); network driver_opts too', () => {
    const vol = 'services:\n  app:\n    image: busybox\n    volumes: ["data:/d"]\nvolumes:\n  data:\n    driver_opts: {type: none, o: bind, device: /etc}\n';
    refused(() => check(vol), 'policy_denied', /stack\.volumes\.data\.driver_opts/);
    refused(() => check(vol, PolicySchema.parse({ allow_volume_driver_opts: true })), 'invalid_message', /driver_opts/, /not supported/);
    const net = 'services:\n  app:\n    image: busybox\nnetworks:\n  default:\n    driver_opts: {parent: eth0}\n';
    refused(() => load(net), 'invalid_message', /networks\.default\.driver_opts/, /not supported/);
  });

  it('working_dir under /proc is refused', () => {
    refused(() => check(svc('working_dir: /proc/self/fd/8')), 'policy_denied', /working_dir/);
  });

  it('ports: published on loopback by default; 0.0.0.0 and ports below 1024 refused', () => {
    const s = withStackDefaults(DEFAULT_POLICY, load(svc('ports: ["8080:80"]')));
    assert.equal(s.services.app!.container.portBindings?.[0]?.hostIp, '127.0.0.1');
    refused(() => check(svc('ports: ["0.0.0.0:8080:80"]')), 'policy_denied', /ports/);
    refused(() => check(svc('ports: ["127.0.0.1:80:80"]')), 'policy_denied', /ports/, /below 1024/);
  });
});
