/**
 * The stack channel's share of findings 5 and 12: a stack sent by message gets the policy's
 * default limits on every service that sets none, cannot set bosun.* labels, and may not
 * use a volume or retag an image that exists on the host without bosun's label (unless the
 * policy's container_scope is "any").
 */
import type { Policy } from '../domain/policy.js';
import { applyLimits } from '../domain/policy/limits.js';
import { ensureMayActOn, ensureUserLabels } from '../domain/policy/ownership.js';
import type { DesiredStack } from '../domain/stack.js';
import type { ContainerEngine } from '../ports/engine.js';

/** The stack with every service's container bounded (pure; throws policy_denied for asks above the maximum). */
export function boundStack(policy: Policy, stack: DesiredStack): DesiredStack {
  const services = Object.fromEntries(
    Object.entries(stack.services).map(([key, svc]) => {
      const prefix = `stack.services.${svc.name}.`;
      ensureUserLabels(svc.container.labels, `${prefix}labels`);
      return [key, { ...svc, container: applyLimits(policy, svc.container, prefix) }];
    }),
  );
  ensureUserLabels(stack.labels, 'stack.labels');
  return { ...stack, services };
}

/** Refuses volumes and build tags that exist on the engine but are not bosun's. */
export async function ensureStackOwnsWhatItUses(policy: Policy, engine: ContainerEngine, stack: DesiredStack): Promise<void> {
  if (policy.container_scope === 'any') return;
  const volumes = new Map<string, string>();
  // attached volumes are named per service and made by bosun; their full names show in the mounts below
  for (const v of stack.volumes) if (!v.attachedTo) volumes.set(v.name, `stack.volumes.${v.key}`);
  for (const svc of Object.values(stack.services)) {
    for (const m of svc.container.mounts ?? []) if (m.type === 'volume' && m.source && !volumes.has(m.source)) volumes.set(m.source, `stack.services.${svc.name}.volumes`);
  }
  for (const [name, field] of volumes) {
    const v = await engine.volumes.inspect(name);
    if (v) ensureMayActOn(policy, 'volume', name, v.labels, field);
  }
  for (const svc of Object.values(stack.services)) {
    if (!svc.build) continue;
    const image = await engine.images.inspect(svc.image);
    if (image) ensureMayActOn(policy, 'image', svc.image, image.labels, `stack.services.${svc.name}.image`);
  }
}
