/**
 * The node's own check of a replica before any engine call: the same host-safety policy as
 * `bosun agent` (images, binds, ports, limits, …). The server may check too, but a node takes
 * orders from the broker, so its check is the one that cannot be bypassed.
 */
import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { enforcePolicy, type Policy } from '../../domain/policy.js';
import type { ContainerSpec } from '../../ports/engine.js';

async function resolveHostPath(p: string): Promise<string> {
  const abs = resolve(p);
  try {
    return await realpath(abs);
  } catch {
    return abs;
  }
}

/**
 * Resolves bind sources through symlinks (the policy compares real paths), then enforces the
 * policy; returns the spec to create, with the resolved sources. Throws policy_denied naming
 * the field under `container.`.
 */
export async function checkReplicaSpec(policy: Policy, spec: ContainerSpec): Promise<ContainerSpec> {
  const mounts = spec.mounts
    ? await Promise.all(spec.mounts.map(async (m) => (m.type === 'bind' && m.source !== undefined ? { ...m, source: await resolveHostPath(m.source) } : m)))
    : undefined;
  const resolved: ContainerSpec = { ...spec, ...(mounts ? { mounts } : {}) };
  enforcePolicy(policy, resolved, 'container.');
  return resolved;
}
