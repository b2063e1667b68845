/**
 * Host-safety policy: whoever can publish to the broker must not own the host.
 * Pure checks over a ContainerSpec; the agent loads the policy file and calls `enforcePolicy`
 * before any engine call. Paths are compared after the caller resolves symlinks.
 */
import { isAbsolute, normalize, sep } from 'node:path';
import { BosunError } from './errors.js';
import type { ContainerSpec } from '../ports/engine.js';

export { DEFAULT_POLICY, PolicySchema, type Policy } from './policy/schema.js';
import type { Policy } from './policy/schema.js';

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\?]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

export function imageAllowed(policy: Policy, image: string): boolean {
  const withTag = image.includes(':') || image.includes('@') ? image : `${image}:latest`;
  const matches = (g: string) => globToRegExp(g).test(image) || globToRegExp(g).test(withTag);
  return policy.images.allow.some(matches) && !policy.images.deny.some(matches);
}

/** True when `path` equals `root` or lies below it. Both must be absolute and already normalised. */
export function isWithin(path: string, root: string): boolean {
  const p = normalize(path);
  const r = normalize(root).replace(/\/+$/, '') || '/';
  return p === r || p.startsWith(r === '/' ? '/' : r + sep);
}

function deny(field: string, message: string): never {
  throw new BosunError('policy_denied', message, { field, retryable: false });
}

export function enforceHostPath(policy: Policy, hostPath: string, roots: string[], field: string): void {
  if (!isAbsolute(hostPath)) deny(field, `${field}: host path "${hostPath}" must be absolute`);
  const forbidden = policy.forbidden_paths.find((f) => isWithin(hostPath, f) || isWithin(f, hostPath));
  if (forbidden) deny(field, `${field}: host path "${hostPath}" touches forbidden path ${forbidden}`);
  if (!roots.some((r) => isWithin(hostPath, r))) {
    deny(field, `${field}: host path "${hostPath}" is outside the allowed roots (${roots.join(', ') || 'none'}); see the policy file`);
  }
}

/** Throws policy_denied naming the field when the spec asks for something the policy refuses. */
export function enforcePolicy(policy: Policy, spec: ContainerSpec, fieldPrefix = ''): void {
  const f = (name: string) => fieldPrefix + name;
  if (!imageAllowed(policy, spec.image)) deny(f('image'), `image "${spec.image}" is not allowed by policy`);
  for (const m of spec.mounts ?? []) {
    if (m.type === 'bind' && m.source !== undefined) enforceHostPath(policy, m.source, policy.bind_roots, f('volumes'));
  }
  if (spec.privileged && !policy.allow_privileged) deny(f('privileged'), 'privileged containers are not allowed by policy');
  if (spec.networkMode === 'host' && !policy.allow_host_network) deny(f('network'), 'host networking is not allowed by policy');
  if (spec.pidMode === 'host' && !policy.allow_host_pid) deny(f('pid'), 'the host PID namespace is not allowed by policy');
  for (const cap of spec.capAdd ?? []) {
    const norm = cap.toUpperCase().replace(/^CAP_/, '');
    if (!policy.allowed_capabilities.map((c) => c.toUpperCase().replace(/^CAP_/, '')).includes(norm)) {
      deny(f('cap_add'), `capability ${cap} is not allowed by policy`);
    }
  }
  if ((spec.devices?.length ?? 0) > 0 && !policy.allow_devices) deny(f('devices'), 'host devices are not allowed by policy');
}
