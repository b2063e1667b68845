/**
 * Compose depends_on conditions: service_started (nothing more), service_healthy,
 * service_completed_successfully. The verdict on one inspection is pure; the wait polls it.
 */
import { BosunError } from '../domain/errors.js';
import type { ContainerDetails } from '../domain/engine/index.js';
import type { DependsCondition } from '../domain/stack.js';
import type { Clock } from '../ports/clock.js';
import type { ContainerEngine } from '../ports/engine.js';
import { sleep } from '../util/abort.js';

const POLL_MS = 200;

/** Met, or not yet; throws when it can no longer be met. */
export function dependencyVerdict(container: string, condition: DependsCondition, d: ContainerDetails | undefined): 'met' | 'wait' {
  if (condition === 'service_started') return 'met';
  if (!d) throw new BosunError('not_found', `dependency ${container} does not exist`);
  if (condition === 'service_healthy') {
    if (d.state.health === 'healthy') return 'met';
    if (!d.state.running) throw new BosunError('engine_error', `dependency ${container} stopped before it became healthy`);
    if (!d.healthcheck) throw new BosunError('engine_error', `dependency ${container} has no healthcheck (condition service_healthy)`);
    return 'wait';
  }
  if (d.state.running || d.state.status === 'created') return 'wait';
  if (d.state.exitCode === 0) return 'met';
  throw new BosunError('nonzero_exit', `dependency ${container} exited with code ${d.state.exitCode} (condition service_completed_successfully)`);
}

export async function awaitDependency(
  engine: ContainerEngine, container: string, id: string, condition: DependsCondition,
  o: { timeoutMs: number; clock: Clock; signal?: AbortSignal },
): Promise<void> {
  if (condition === 'service_started') return;
  const deadline = o.clock.now() + o.timeoutMs;
  for (;;) {
    if (dependencyVerdict(container, condition, await engine.containers.inspect(id)) === 'met') return;
    if (o.clock.now() > deadline) throw new BosunError('timeout', `dependency ${container} not ${condition} within ${o.timeoutMs} ms`);
    await sleep(POLL_MS, o.signal);
  }
}
