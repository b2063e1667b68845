/**
 * Host-safety policy: whoever can publish to the broker must not own the host.
 * Checks over a ContainerSpec, one file per concern under ./policy/, composed here; the agent
 * loads the policy file and calls `enforcePolicyOnHost` (src/host/policy.ts: these checks, then
 * bind sources on disk — no symlinks, trusted root) before any engine call. Pure: no I/O here.
 */
import { BosunError } from './errors.js';
import type { ContainerSpec } from '../domain/engine/index.js';
import { globToRegExp } from './policy/glob.js';
import { enforceBindSourceShape } from './policy/host-paths.js';
import { enforceHostFields } from './policy/host-fields.js';
import { enforceNamespaces, type NamespaceScope } from './policy/namespaces.js';
import { enforcePorts, withDefaultHostIp as withDefaultHostIpOf } from './policy/ports.js';
import type { Policy } from './policy/schema.js';

export { DEFAULT_POLICY, PolicySchema, type Policy } from './policy/schema.js';
export { enforceBindSourceShape, enforceHostPath, isWithin } from './policy/host-paths.js';
export { enforceLogDriver, enforceVolumeDriverOpts } from './policy/host-fields.js';
export { withDefaultHostIp } from './policy/ports.js';
export type { NamespaceScope } from './policy/namespaces.js';


export function imageAllowed(policy: Policy, image: string): boolean {
  const withTag = image.includes(':') || image.includes('@') ? image : `${image}:latest`;
  const matches = (g: string) => globToRegExp(g).test(image) || globToRegExp(g).test(withTag);
  return policy.images.allow.some(matches) && !policy.images.deny.some(matches);
}

/**
 * Throws policy_denied naming the field when the spec asks for something the policy refuses.
 * The pure half: code that creates containers on this host calls enforcePolicyOnHost
 * (src/host/policy.ts), which adds the on-disk bind checks (test/unit/lint/policy-callers.test.ts).
 */
export function enforcePolicy(policy: Policy, spec: ContainerSpec, fieldPrefix = '', scope: NamespaceScope = {}): void {
  const f = (name: string) => fieldPrefix + name;
  if (!imageAllowed(policy, spec.image)) {
    throw new BosunError('policy_denied', `image "${spec.image}" is not allowed by policy`, { field: f('image'), retryable: false });
  }
  for (const m of spec.mounts ?? []) {
    if (m.type === 'bind' && m.source !== undefined) enforceBindSourceShape(policy, m.source, f('volumes'));
  }
  enforceNamespaces(policy, spec, f, scope);
  enforceHostFields(policy, spec, f);
  enforcePorts(policy, spec, f('ports'));
  if (spec.runtime !== undefined && !policy.allowed_runtimes.includes(spec.runtime)) {
    throw new BosunError('policy_denied', `runtime "${spec.runtime}" is not in the policy's allowed_runtimes`, { field: f('runtime'), retryable: false });
  }
}

/** What the policy fills in before the checks: a port published without an address binds to the policy's first allowed one. */
export function applyPolicyDefaults(policy: Policy, spec: ContainerSpec): ContainerSpec {
  const portBindings = withDefaultHostIpOf(policy, spec.portBindings);
  return portBindings ? { ...spec, portBindings } : spec;
}
