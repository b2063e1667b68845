/**
 * Pure: may a workflow's `bosun:publish` task publish to this channel? The agent publishes with
 * its own broker rights, which are wider than any publisher's, so the policy says where a
 * workflow may publish (`workflow_publish.allow` / `deny`, globs, per publisher through `users`).
 *
 * Whatever the policy says, a workflow never targets bosun's own control channels: the ones
 * that act on other executions (`workflow.cancel`, `pause`, `resume`, `redrive`, `define`),
 * bosun's internal queues (`bosun.*`, e.g. the errors queue `bosun.errors`, and per-store
 * callback channels) and any the agent adds (its --errors-queue). `workflow.start` and the
 * `workflow.task_*` channels stay allowed: starting a child execution and reporting another
 * execution's callback are ordinary workflow patterns.
 */
import type { Policy } from '../../domain/policy.js';
import { globMatches } from '../../domain/policy/glob.js';

export const RESERVED_PUBLISH_CHANNELS: readonly string[] = [
  'bosun.*',
  'workflow.cancel',
  'workflow.pause',
  'workflow.resume',
  'workflow.redrive',
  'workflow.define',
];

export type PublishVerdict = { allowed: true } | { allowed: false; rule: string };

/** The verdict for `channel` under `policy` (already resolved for the publisher: policyFor). */
export function publishChannelVerdict(
  policy: Pick<Policy, 'workflow_publish'>, channel: string, extraReserved: readonly string[] = [], multiTenant = false,
): PublishVerdict {
  const reserved = [...RESERVED_PUBLISH_CHANNELS, ...extraReserved].find((g) => globMatches(g, channel));
  if (reserved !== undefined) return { allowed: false, rule: `bosun's own control channels ("${reserved}") are never a workflow's to publish to` };
  const rules = policy.workflow_publish;
  if (!rules) {
    return multiTenant
      ? { allowed: false, rule: 'this agent\'s policy names publishers (users) and sets no workflow_publish: a tenant\'s workflow may publish only to channels the operator lists' }
      : { allowed: true };
  }
  const denied = rules.deny.find((g) => globMatches(g, channel));
  if (denied !== undefined) return { allowed: false, rule: `the policy's workflow_publish.deny has "${denied}"` };
  if (!rules.allow.some((g) => globMatches(g, channel))) {
    return { allowed: false, rule: `no pattern of the policy's workflow_publish.allow (${rules.allow.map((g) => `"${g}"`).join(', ') || 'none'}) matches it` };
  }
  return { allowed: true };
}
