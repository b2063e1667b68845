/**
 * A pool's container spec, built as a run's is (buildRunSpec, policy defaults and limits,
 * enforcePolicyOnHost): a pool file cannot hold what a message could not ask for.
 */
import { buildRunSpec } from '../actions/run-spec.js';
import { attachedRunSchema } from '../actions/schemas/run.js';
import { BosunError } from '../domain/errors.js';
import { LABEL } from '../domain/labels.js';
import { applyPolicyDefaults, type Policy } from '../domain/policy.js';
import { enforcePolicyOnHost } from '../host/policy.js';
import { applyLimits } from '../domain/policy/limits.js';
import { ensureUserLabels } from '../domain/policy/ownership.js';
import type { ContainerSpec } from '../domain/engine/index.js';
import { poolName, type PoolDef } from './pool-file.js';
import { poolKey } from './plan.js';

export interface PoolTemplate {
  name: string;
  key: string;
  /** Create options of one idle member (name and labels added per container). */
  spec: ContainerSpec;
}

/** What a run's own spec is built from: the same channel-independent fields. */
export function resolvedSpec(policy: Policy, spec: ContainerSpec): ContainerSpec {
  const resolved = applyLimits(policy, applyPolicyDefaults(policy, spec));
  enforcePolicyOnHost(policy, resolved);
  return resolved;
}

export function poolTemplate(def: PoolDef, policy: Policy): PoolTemplate {
  const name = poolName(def);
  try {
    ensureUserLabels(def.match.labels, 'match.labels');
    const input = attachedRunSchema.parse({ image: def.image, ...def.match, response_channel: 'bosun.pool' });
    const run = buildRunSpec(input, { requestId: 'pool', bodyHash: '', channel: '', image: def.image, uuid: '0', attached: true });
    const spec = resolvedSpec(policy, run);
    const key = poolKey(spec);
    const labels = Object.fromEntries(Object.entries(spec.labels ?? {}).filter(([k]) => ![LABEL.request, LABEL.channel, 'bosun.body-hash'].includes(k)));
    return {
      name,
      key,
      spec: {
        ...spec,
        env: [],
        entrypoint: def.init,
        cmd: [],
        // A sleeping PID 1 ignores SIGTERM; members are removed by force, never stopped gracefully.
        stopTimeoutSec: 0,
        labels: { ...labels, [LABEL.pool]: name, [LABEL.poolKey]: key },
      },
    };
  } catch (e) {
    const err = e instanceof BosunError ? e : new BosunError('invalid_message', (e as Error).message, { cause: e });
    throw new BosunError(err.code, `pool "${name}": ${err.message}`, { field: `pools.${name}${err.field ? `.${err.field}` : ''}`, cause: e, retryable: false });
  }
}
