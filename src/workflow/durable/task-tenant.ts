/**
 * A container task acts for the publisher who started its execution: under
 * policyFor(base, publisher), counted against that publisher's run quotas. A publisher no
 * longer named by the policy, or a refused quota, is a task failure (bosun.PolicyDenied,
 * bosun.QuotaExceeded) that the definition can Retry or Catch.
 */
import { isBosunError } from '../../domain/errors.js';
import type { Policy } from '../../domain/policy.js';
import { policyFor } from '../../domain/policy/publishers.js';
import type { RunQuotas } from '../../pipeline/quotas.js';
import { Bosun } from '../errors.js';
import { failure, type Finished, type TaskContext } from './tasks.js';

/** The policy a task of this execution runs under, or the failure that ends it. */
export function taskPolicy(base: Policy, ctx: TaskContext): { policy: Policy } | { failed: Finished } {
  try {
    return { policy: policyFor(base, ctx.publisher) };
  } catch (e) {
    if (isBosunError(e) && e.code === 'publisher_unknown') {
      return { failed: failure(Bosun.PolicyDenied, `publisher_unknown: the execution's starter may not run tasks here: ${e.message}`) };
    }
    throw e;
  }
}

/** Counts the task's start against its publisher's quotas; the failure when a quota refuses it. */
export async function admitTask(quotas: RunQuotas | undefined, policy: Policy, ctx: TaskContext, requestId: string): Promise<Finished | undefined> {
  if (!quotas) return undefined;
  try {
    const release = await quotas.admit(policy.quotas, ctx.publisher, requestId, 'attached', false);
    release();
    return undefined;
  } catch (e) {
    if (isBosunError(e) && e.code === 'quota_exceeded') return failure(Bosun.QuotaExceeded, `quota_exceeded (${e.field ?? 'quotas'}): ${e.message}`);
    throw e;
  }
}
