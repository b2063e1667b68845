/**
 * The policy as the agent and the node apply it on their own host: the pure checks of
 * src/domain/policy.ts, then what only the disk can say about bind sources (they exist, are no
 * symlinks, and lie in a trusted root). The cluster server, which has no view of a node's
 * disk, uses the pure checks alone.
 */
import type { ContainerSpec } from '../domain/engine/index.js';
import { enforcePolicy, type NamespaceScope, type Policy } from '../domain/policy.js';
import { enforceBindSourceOnDisk } from './host-paths.js';

export { enforceBindSource, enforceReadPath, readFileWithin, realOrNormal } from './host-paths.js';

export function enforcePolicyOnHost(policy: Policy, spec: ContainerSpec, fieldPrefix = '', scope: NamespaceScope = {}): void {
  enforcePolicy(policy, spec, fieldPrefix, scope);
  for (const m of spec.mounts ?? []) {
    if (m.type === 'bind' && m.source !== undefined) enforceBindSourceOnDisk(policy, m.source, `${fieldPrefix}volumes`);
  }
}
