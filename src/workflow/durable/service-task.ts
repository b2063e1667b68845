/**
 * `bosun:service`: a workflow task that sets a cluster service's replicas or its whole spec
 * through the cluster server's REST API, and with `wait: true` polls it until the live
 * replicas all run the current spec. A PUT of the same values changes nothing, so running the
 * task again after a crash is safe.
 */
import { z } from 'zod';
import { ClusterApiClient, isClusterApiError, type ClusterEndpoint, type ServicePut, type ServiceView } from '../../cluster/api-client.js';
import { nameSchema, containerTemplateSchema } from '../../cluster/protocol.js';
import { constraintSchema } from '../../cluster/server/api-rules.js';
import { systemClock, type Clock } from '../../ports/clock.js';
import { sleep } from '../../util/abort.js';
import { Bosun, States } from '../errors.js';
import { badParameters } from './task-action.js';
import { failure, type TaskContext, type TaskOutcome, type TaskRunner } from './tasks.js';

export const RESOURCE = 'bosun:service';

const replicas = z.number().int().min(0);

export const serviceTaskSchema = z.strictObject({
  service: nameSchema,
  replicas: replicas.optional(),
  spec: z.strictObject({ replicas: replicas.optional(), container: containerTemplateSchema, constraints: z.array(constraintSchema).max(64).optional() }).optional(),
  wait: z.boolean().default(false),
}).refine((p) => p.replicas === undefined || p.spec === undefined, { message: 'give replicas or spec, not both (a spec carries its own replicas)', path: ['replicas'] });

export type ServiceTaskParameters = z.infer<typeof serviceTaskSchema>;

export interface ServiceTaskDeps {
  cluster?: ClusterEndpoint;
  clock?: Clock;
  /** How often `wait` asks the server (default 500 ms). */
  pollMs?: number;
  /** How long `wait` waits when the task has no TimeoutSeconds (default 600 s). */
  defaultWaitS?: number;
}

/** Live replicas all running the service's current spec version, and as many as it asks for. */
export function converged(v: ServiceView): boolean {
  const live = v.assignments.filter((a) => a.desired === 'run');
  return live.length === v.replicas && live.every((a) => a.state === 'running' && a.specVersion === v.version);
}

function resultOf(v: ServiceView, changed: boolean, created: boolean) {
  const live = v.assignments.filter((a) => a.desired === 'run');
  return {
    service: v.name, version: v.version, replicas: v.replicas, changed, created,
    running: live.filter((a) => a.state === 'running' && a.specVersion === v.version).length,
    assignments: live.map((a) => ({ name: a.name, node: a.node, state: a.state })),
  };
}

/** What to PUT, or undefined when the service already is that (or the task only reads it); a field-order difference only costs an idempotent PUT. */
function desiredPut(p: ServiceTaskParameters, current: ServiceView | undefined): ServicePut | undefined {
  if (p.spec) {
    const count = p.spec.replicas ?? current?.replicas;
    if (count === undefined) return undefined;
    const want = { replicas: count, container: p.spec.container, constraints: p.spec.constraints ?? current?.constraints ?? [] };
    const same = current && JSON.stringify([current.replicas, current.container, current.constraints]) === JSON.stringify([want.replicas, want.container, want.constraints]);
    return same ? undefined : want;
  }
  if (p.replicas === undefined || !current || current.replicas === p.replicas) return undefined;
  return { replicas: p.replicas, container: current.container, constraints: current.constraints };
}

export class ServiceTaskRunner implements TaskRunner {
  constructor(private readonly d: ServiceTaskDeps) {}

  async run(ctx: TaskContext): Promise<TaskOutcome> {
    const parsed = serviceTaskSchema.safeParse(ctx.command.parameters);
    if (!parsed.success) return badParameters(RESOURCE, parsed.error);
    if (!this.d.cluster?.url) return failure(States.Runtime, `${RESOURCE}: no cluster server is configured (give the agent or \`bosun workflow run\` the cluster's URL and token)`);
    const p = parsed.data;
    const clock = this.d.clock ?? systemClock;
    const waitS = ctx.command.timeoutSeconds ?? this.d.defaultWaitS ?? 600;
    const deadline = clock.now() + waitS * 1000;
    const client = new ClusterApiClient(this.d.cluster);
    const signal = AbortSignal.any([ctx.signal, ctx.detached]);
    try {
      let view = await client.getService(p.service, signal);
      if (!view && !p.spec) return failure(Bosun.ServiceNotFound, `the cluster has no service "${p.service}"`);
      if (!view && p.spec?.replicas === undefined) return failure(Bosun.ServiceNotFound, `the cluster has no service "${p.service}" to take replicas from; give spec.replicas to create it`);
      const put = desiredPut(p, view);
      let created = false;
      if (put) ({ view, created } = await client.putService(p.service, put, signal));
      let current: ServiceView = view!;
      while (p.wait && !converged(current)) {
        if (clock.now() >= deadline) {
          const r = resultOf(current, put !== undefined, created);
          return failure(States.Timeout, `service "${p.service}": ${r.running} of ${r.replicas} replicas running the current spec after ${waitS} s`);
        }
        await sleep(this.d.pollMs ?? 500, signal);
        if (signal.aborted) return failure(States.TaskFailed, 'cancelled');
        const again = await client.getService(p.service, signal);
        if (!again) return failure(Bosun.ServiceNotFound, `service "${p.service}" was deleted while waiting for its replicas`);
        current = again;
      }
      return { ok: true, output: resultOf(current, put !== undefined, created) };
    } catch (e) {
      if (signal.aborted) return failure(States.TaskFailed, 'cancelled');
      if (!isClusterApiError(e)) throw e;
      if (e.kind === 'unavailable') return failure(Bosun.ClusterUnavailable, e.message);
      if (e.kind === 'not_found') return failure(Bosun.ServiceNotFound, e.message);
      return failure(Bosun.ClusterRefused, e.message);
    }
  }
}
