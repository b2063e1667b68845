/**
 * Pure: the policy that applies to one publisher. Without `users` in the policy file every
 * message gets the base policy (publishers unchecked). With `users`, a message must carry a
 * user id named there (RabbitMQ validates `user_id` against the connection's user); that
 * user's fields replace the base ones, except limits and quotas, which merge key by key.
 */
import { BosunError } from '../errors.js';
import type { Policy, PublisherPolicy } from './schema.js';

export function mergePublisher(base: Policy, own: PublisherPolicy): Policy {
  const { users: _users, ...rest } = base;
  return {
    ...rest,
    ...own,
    default_limits: { ...base.default_limits, ...own.default_limits },
    max_limits: { ...base.max_limits, ...own.max_limits },
    quotas: { ...base.quotas, ...own.quotas },
  } as Policy;
}

const cache = new WeakMap<Policy, Map<string, Policy>>();

/** The policy for `userId`, or publisher_unknown (field user_id) when the policy names publishers and this is not one. */
export function policyFor(policy: Policy, userId: string | undefined): Policy {
  const users = policy.users;
  if (!users) return policy;
  if (userId === undefined || userId === '') {
    throw new BosunError('publisher_unknown', 'this agent takes messages only from the publishers its policy names; the message has no user_id property', {
      field: 'user_id',
      retryable: false,
    });
  }
  const own = Object.hasOwn(users, userId) ? users[userId] : undefined;
  if (!own) throw new BosunError('publisher_unknown', `publisher "${userId}" is not named in this agent's policy (users)`, { field: 'user_id', retryable: false });
  let perPolicy = cache.get(policy);
  if (!perPolicy) cache.set(policy, (perPolicy = new Map()));
  let merged = perPolicy.get(userId);
  if (!merged) perPolicy.set(userId, (merged = mergePublisher(policy, own)));
  return merged;
}
