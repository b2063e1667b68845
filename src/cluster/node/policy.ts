/**
 * The node's own check of a replica before any engine call: the same host-safety policy as
 * `bosun agent` (images, binds, ports, limits, …). The server may check too, but a node takes
 * orders from the broker, so its check is the one that cannot be bypassed.
 */
import { applyPolicyDefaults, enforcePolicy, type Policy } from '../../domain/policy.js';
import { applyLimits } from '../../domain/policy/limits.js';
import type { ContainerSpec } from '../../domain/engine/index.js';

/**
 * Applies the policy's defaults (loopback for address-less ports, default limits and log
 * rotation), then enforces it — bind sources as given: a symlink is refused, never resolved,
 * as on the agent. Returns the spec to create; throws policy_denied naming the field under `container.`.
 */
export async function checkReplicaSpec(policy: Policy, spec: ContainerSpec): Promise<ContainerSpec> {
  const bounded = applyLimits(policy, applyPolicyDefaults(policy, spec), 'container.');
  enforcePolicy(policy, bounded, 'container.');
  return bounded;
}
