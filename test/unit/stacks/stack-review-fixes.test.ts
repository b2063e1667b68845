/**
 * Holes a hostile review found after the security merge, each fed through the same path a
 * stack message takes (load → enforceStackPolicy) or the pure policy functions.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StackMessage, enforceStackPolicy, loadStackOf } from '../../../src/actions/stack.js';
import { isBosunError } from '../../../src/domain/errors.js';
import { LABEL } from '../../../src/domain/labels.js';
import { DEFAULT_POLICY, PolicySchema, enforcePolicy } from '../../../src/domain/policy.js';
import { ensureMayActOn } from '../../../src/domain/policy/ownership.js';

function deniedAt(fn: () => unknown, field: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isBosunError(e), String(e));
    assert.equal(e.code, 'policy_denied', e.message);
    assert.match(e.field ?? '', field);
    return true;
  });
}

const stackOf = (inline: unknown) => loadStackOf(StackMessage.parse({ action: 'up', name: 'rev', stack: { inline } }), DEFAULT_POLICY);

describe('review fixes', () => {
  it('a stack network named container:X or host is refused, not used as the network mode', () => {
    for (const networks of [
      { n: { external: true, name: 'container:victim' } },
      { 'container:victim': { external: true } },
      { n: { external: true, name: 'host' } },
    ]) {
      const key = Object.keys(networks)[0]!;
      const stack = stackOf({ services: { a: { image: 'busybox', networks: [key] } }, networks });
      deniedAt(() => enforceStackPolicy(DEFAULT_POLICY, stack), /^stack\.services\.a\.networks$/);
    }
  });

  it('an ordinary stack network still passes', () => {
    const stack = stackOf({ services: { a: { image: 'busybox', networks: ['n'] } }, networks: { n: {} } });
    enforceStackPolicy(DEFAULT_POLICY, stack);
  });

  it('a host port range cannot slip under min_host_port', () => {
    const spec = { image: 'busybox', portBindings: [{ containerPort: '80/tcp', hostIp: '127.0.0.1', hostPort: '1-1023' }] };
    deniedAt(() => enforcePolicy(DEFAULT_POLICY, spec), /ports/);
    enforcePolicy(DEFAULT_POLICY, { ...spec, portBindings: [{ containerPort: '80/tcp', hostIp: '127.0.0.1', hostPort: '8080' }] });
  });

  it('with named publishers, a container another publisher made is not this one\'s', () => {
    const labels = { [LABEL.managed]: 'true', [LABEL.publisher]: 'alice' };
    ensureMayActOn(DEFAULT_POLICY, 'container', 'c', labels, 'name', 'alice');
    deniedAt(() => ensureMayActOn(DEFAULT_POLICY, 'container', 'c', labels, 'name', 'bob'), /^name$/);
    ensureMayActOn(PolicySchema.parse({ container_scope: 'any' }), 'container', 'c', labels, 'name', 'bob');
    ensureMayActOn(DEFAULT_POLICY, 'container', 'c', { [LABEL.managed]: 'true' }, 'name', 'bob');
  });
});
