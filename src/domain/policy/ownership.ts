/**
 * Pure: is this container / volume / image bosun's, and may a message act on it?
 * "Bosun's" = it carries `bosun.managed=true`, which every run, stack and cluster container,
 * every stack volume and network and every image bosun builds gets. Publishers can never set
 * a `bosun.*` label themselves (see `userLabelProblem`), so the label cannot be forged by
 * message. The policy's `container_scope: any` widens the lifecycle channels to every
 * container on the host (per publisher, through the resolved policy).
 */
import { BosunError } from '../errors.js';
import { LABEL, LABEL_PREFIX } from '../labels.js';
import type { Policy } from './schema.js';

export type OwnedKind = 'container' | 'volume' | 'image';

export function isBosunManaged(labels: Readonly<Record<string, string>> | undefined | null): boolean {
  return labels?.[LABEL.managed] === 'true';
}

/** True when the policy lets a message act on an object with these labels. */
export function mayActOn(policy: Pick<Policy, 'container_scope'>, labels: Readonly<Record<string, string>> | undefined | null): boolean {
  return policy.container_scope === 'any' || isBosunManaged(labels);
}

/** Throws policy_denied naming `field` when the object is not bosun's and the scope is `bosun`. */
export function ensureMayActOn(
  policy: Pick<Policy, 'container_scope'>,
  kind: OwnedKind,
  name: string,
  labels: Readonly<Record<string, string>> | undefined | null,
  field: string,
  /** With named publishers: a container another publisher's run made is not this one's to act on. */
  publisher?: string,
): void {
  const other = labels?.[LABEL.publisher];
  // A warm pool's containers are the agent's own: idle ones are nobody's yet, and a claimed one
  // cannot be relabelled for its run (Docker cannot change a live container's labels).
  if (labels?.[LABEL.pool] !== undefined && policy.container_scope !== 'any') {
    throw new BosunError('policy_denied', `${kind} "${name}" belongs to the agent's warm pool; messages do not act on pool containers`, { field, retryable: false });
  }
  if (mayActOn(policy, labels) && policy.container_scope !== 'any' && publisher !== undefined && other !== undefined && other !== publisher) {
    throw new BosunError('policy_denied', `${kind} "${name}" was made for another publisher; the policy's container_scope "bosun" lets a publisher act only on its own`, { field, retryable: false });
  }
  if (mayActOn(policy, labels)) return;
  throw new BosunError(
    'policy_denied',
    `${kind} "${name}" was not made by bosun (it has no ${LABEL.managed}=true label); the policy's container_scope "bosun" lets messages act only on bosun's own ${kind}s`,
    { field, retryable: false },
  );
}

/** The one `bosun.*` label a message may set: tests mark what they make with it, and it grants nothing. */
const USER_SETTABLE = new Set<string>([LABEL.test]);

/** The first label key a publisher may not set (any `bosun.*` key but the test marker), if any. */
export function userLabelProblem(labels: Readonly<Record<string, string>> | undefined): string | undefined {
  return Object.keys(labels ?? {}).find((k) => k.toLowerCase().startsWith(LABEL_PREFIX) && !USER_SETTABLE.has(k));
}

/** Throws invalid_message naming `<field>.<key>` when a message's labels try to set a bosun.* label. */
export function ensureUserLabels(labels: Readonly<Record<string, string>> | undefined, field = 'labels'): void {
  const bad = userLabelProblem(labels);
  if (bad === undefined) return;
  throw new BosunError('invalid_message', `${field}: "${bad}" is reserved: labels starting with "bosun." are set by bosun only`, {
    field: `${field}.${bad}`,
    retryable: false,
  });
}
