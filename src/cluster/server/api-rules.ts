/**
 * The cluster API's rules, apart from its routes: request schemas, what a seed POST may change
 * of an existing service, and which nodes /recommendNodes picks (pure; time is passed in).
 */
import { z } from 'zod';
import { BosunError } from '../../domain/errors.js';
import type { ContainerTemplate, Replica, ServiceSpec } from '../../domain/cluster.js';
import { Scheduler } from '../../planner/cluster/scheduler.js';
import type { NodeRecord, ServiceRecord } from '../../ports/store.js';
import { containerTemplateSchema, nameSchema, zodToBosun } from '../protocol.js';
import { isAlive } from './views.js';

export const constraintSchema = z.strictObject({ label: z.string().min(1), op: z.enum(['=', '!=']), value: z.string() });
export const nameFilter = z.strictObject({ name: z.string().optional(), serviceName: z.string().optional() }).optional();

export function apiSchemas(maxReplicas: number) {
  const replicas = z.number().int().min(0).max(maxReplicas, `at most ${maxReplicas} replicas per service (bosun server --max-replicas)`);
  return {
    seedPost: z.strictObject({
      services: z.array(z.strictObject({
        serviceName: nameSchema,
        replicas,
        container: z.strictObject({ name: nameSchema, image: z.string().min(1).max(512) }),
      })).min(1).max(100),
    }),
    servicePut: z.strictObject({ replicas, container: containerTemplateSchema, constraints: z.array(constraintSchema).max(64).optional() }),
    recommend: z.strictObject({ nodes: z.array(z.string()).default([]), replicas: replicas.min(1) }),
  };
}
export type ApiSchemas = ReturnType<typeof apiSchemas>;

export function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body ?? {});
  if (!r.success) throw zodToBosun(r.error);
  return r.data;
}

/**
 * Seed POST /service only creates or scales: an existing service keeps its container, and a
 * different image or container name is a conflict (PUT /services/:name changes those).
 */
export function seedContainerFor(old: ServiceRecord | undefined, name: string, container: ContainerTemplate, field: string): ContainerTemplate {
  if (!old || old.deleted) return container;
  if (old.container.image !== container.image) throw new BosunError('conflict', `service ${name} exists with image ${old.container.image}; use PUT /services/${name} to change it`, { field: `${field}.image` });
  if (old.container.name !== container.name) throw new BosunError('conflict', `service ${name} exists with container name ${old.container.name}`, { field: `${field}.name` });
  return old.container;
}

export function seedAction(old: ServiceRecord | undefined, created: boolean, replicas: number): 'created' | 'unchanged' | 'scaled' {
  return created ? 'created' : old?.replicas === replicas ? 'unchanged' : 'scaled';
}

/** The nodes a service of `count` replicas would be spread over now, as the scheduler would place them. */
export function recommendNodes(all: NodeRecord[], replicas: Replica[], want: { nodes: string[]; replicas: number }, now: number, graceMs: number): string[] {
  const nodes = all.filter((n) => isAlive(n, now, graceMs) && (want.nodes.length === 0 || want.nodes.includes(n.name)));
  const sched = new Scheduler(nodes);
  for (const r of replicas) if (r.desired === 'run') sched.account(r.node, r.service, undefined, false);
  const probe: ServiceSpec = { name: '\u0000recommend', replicas: want.replicas, container: { name: 'probe', image: 'probe' }, constraints: [], version: 1, deleted: false };
  const picked: string[] = [];
  for (let i = 0; i < want.replicas; i++) {
    const p = sched.pick(probe);
    if (!p.node) break;
    sched.take(probe, p.node);
    picked.push(p.node);
  }
  return picked;
}
