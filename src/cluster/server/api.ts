/**
 * REST API: seed 001's routes (POST /service, /state, /service_state, /node_state,
 * /container_state, /recommendNodes) and bosun's own (/services, /nodes, drain,
 * /openapi.json). Bearer-token auth unless built insecure; unknown fields are errors; a
 * server policy refuses a spec at PUT time (the node checks again); errors name the field.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { BosunError, isBosunError, type ErrorCode } from '../../domain/errors.js';
import { enforcePolicy, type Policy } from '../../domain/policy.js';
import type { Registry } from 'prom-client';
import type { ClusterStore } from '../../ports/store.js';
import { Scheduler } from '../../planner/cluster/scheduler.js';
import type { Logger } from '../../util/log.js';
import type { ContainerTemplate } from '../../domain/cluster.js';
import { containerSpecFor } from '../node/spec.js';
import { containerTemplateSchema, nameSchema, zodToBosun } from '../protocol.js';
import { bearerMatches } from './auth.js';
import type { Controller } from './controller.js';
import { OPENAPI } from './openapi.js';
import { isAlive, seedContainerState, seedNodeState, seedServiceState, seedSummary, serviceView } from './views.js';

export interface ApiOptions {
  store: ClusterStore;
  controller: Controller;
  log: Logger;
  /** Required on every route but /healthz and /openapi.json; absent only with insecureNoAuth. */
  token?: string;
  insecureNoAuth?: boolean;
  /** Checked at PUT/POST so the client hears at once; the node enforces its own regardless. */
  policy?: Policy;
  /** Most replicas one service may ask for. */
  maxReplicas?: number;
  heartbeatGraceMs: number;
  /** Served on GET /metrics (Prometheus text format), behind the bearer token like the rest. */
  metrics?: Registry;
}

export const DEFAULT_MAX_REPLICAS = 100;

const constraintSchema = z.strictObject({ label: z.string().min(1), op: z.enum(['=', '!=']), value: z.string() });
const nameFilter = z.strictObject({ name: z.string().optional(), serviceName: z.string().optional() }).optional();

function schemas(maxReplicas: number) {
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

// 401 (no or wrong token) is answered by the auth hook; policy_denied here is a spec the policy refuses
const STATUS: Partial<Record<ErrorCode, number>> = { bad_json: 400, invalid_message: 400, not_found: 404, conflict: 409, policy_denied: 403, store_error: 503, broker_error: 503 };
const OPEN_PATHS = new Set(['/healthz', '/openapi.json']);

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body ?? {});
  if (!r.success) throw zodToBosun(r.error);
  return r.data;
}

export function buildApi(o: ApiOptions): FastifyInstance {
  if (!o.token && !o.insecureNoAuth) throw new BosunError('policy_denied', 'the cluster API needs a token unless insecureNoAuth is set', { field: 'token' });
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  const store = o.store;
  const { seedPost, servicePut, recommend } = schemas(o.maxReplicas ?? DEFAULT_MAX_REPLICAS);
  const checkPolicy = (name: string, container: ContainerTemplate, prefix: string) => {
    if (!o.policy) return;
    const spec = containerSpecFor({ type: 'run', service: name, slot: 0, generation: 1, specVersion: 1, container }, 'server');
    enforcePolicy(o.policy, spec, prefix);
  };

  app.setErrorHandler((e: unknown, _req: FastifyRequest, reply: FastifyReply) => {
    let err: BosunError;
    if (isBosunError(e)) err = e;
    else {
      const fe = e as { statusCode?: number; message?: string; code?: string };
      if (fe.statusCode && fe.statusCode < 500) err = new BosunError(fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || /JSON/i.test(fe.message ?? '') ? 'bad_json' : 'invalid_message', fe.message ?? 'bad request');
      else {
        o.log.error({ err: (e as Error).message }, 'api error');
        err = new BosunError('internal', 'internal error');
      }
    }
    void reply.status(STATUS[err.code] ?? 500).send({ error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } });
  });

  app.addHook('onRequest', async (req, reply) => {
    if (!o.token || OPEN_PATHS.has(req.url.split('?')[0] ?? '')) return;
    if (bearerMatches(o.token, req.headers.authorization)) return;
    return reply.code(401).header('www-authenticate', 'Bearer').send({ error: { code: 'policy_denied', field: 'authorization', message: 'missing or wrong bearer token (Authorization: Bearer <token>)' } });
  });

  app.get('/healthz', async () => ({ ok: true, controller: o.controller.status() }));
  app.get('/openapi.json', async () => OPENAPI);
  if (o.metrics) {
    const registry = o.metrics;
    app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  }

  // ---- seed 001 ----
  app.post('/service', async (req) => {
    const body = parse(seedPost, req.body);
    const results = [];
    for (const [i, s] of body.services.entries()) checkPolicy(s.serviceName, s.container, `services.${i}.container.`);
    for (const [i, s] of body.services.entries()) {
      const old = await store.getService(s.serviceName);
      if (old && !old.deleted) {
        if (old.container.image !== s.container.image) throw new BosunError('conflict', `service ${s.serviceName} exists with image ${old.container.image}; use PUT /services/${s.serviceName} to change it`, { field: `services.${i}.container.image` });
        if (old.container.name !== s.container.name) throw new BosunError('conflict', `service ${s.serviceName} exists with container name ${old.container.name}`, { field: `services.${i}.container.name` });
      }
      const container = old && !old.deleted ? old.container : s.container;
      const { record, created } = await store.putService({ name: s.serviceName, replicas: s.replicas, container, constraints: old?.constraints ?? [] }, Date.now());
      results.push({ serviceName: record.name, replicas: record.replicas, action: created ? 'created' : old?.replicas === s.replicas ? 'unchanged' : 'scaled' });
    }
    o.controller.wake();
    return { services: results };
  });

  const all = async () => {
    const [services, nodes, replicas] = await Promise.all([store.listServices(), store.listNodes(), store.listReplicas()]);
    return { services, nodes, replicas };
  };
  const filterName = (req: FastifyRequest) => {
    const f = parse(nameFilter, req.body ?? undefined);
    return f?.name ?? f?.serviceName;
  };
  app.get('/state', async () => {
    const a = await all();
    return seedSummary(a.services.filter((s) => !s.deleted), a.nodes, a.replicas);
  });
  for (const method of ['GET', 'POST'] as const) {
    app.route({ method, url: '/service_state', handler: async (req) => {
      const a = await all();
      const name = method === 'POST' ? filterName(req) : undefined;
      return seedServiceState(a.services, a.replicas).filter((s) => !name || s.name === name);
    } });
    app.route({ method, url: '/node_state', handler: async (req) => {
      const name = method === 'POST' ? filterName(req) : undefined;
      return seedNodeState(await store.listNodes(), Date.now(), o.heartbeatGraceMs).filter((n) => !name || n.name === name);
    } });
    app.route({ method, url: '/container_state', handler: async (req) => {
      const a = await all();
      const name = method === 'POST' ? filterName(req) : undefined;
      return seedContainerState(a.services, a.replicas).filter((c) => !name || c.service_map === name || c.name === name);
    } });
  }
  app.post('/recommendNodes', async (req) => {
    const body = parse(recommend, req.body);
    const now = Date.now();
    const nodes = (await store.listNodes()).filter((n) => isAlive(n, now, o.heartbeatGraceMs) && (body.nodes.length === 0 || body.nodes.includes(n.name)));
    const sched = new Scheduler(nodes);
    for (const r of await store.listReplicas()) if (r.desired === 'run') sched.account(r.node, r.service, undefined, false);
    const probe = { name: '\u0000recommend', replicas: body.replicas, container: { name: 'probe', image: 'probe' }, constraints: [], version: 1, deleted: false };
    const picked: string[] = [];
    for (let i = 0; i < body.replicas; i++) {
      const p = sched.pick(probe);
      if (!p.node) break;
      sched.take(probe, p.node);
      picked.push(p.node);
    }
    return { nodes: picked };
  });

  // ---- bosun's own ----
  app.get('/services', async () => {
    const a = await all();
    return { services: a.services.map((s) => serviceView(s, a.replicas)) };
  });
  app.get<{ Params: { name: string } }>('/services/:name', async (req) => {
    const s = await store.getService(req.params.name);
    if (!s) throw new BosunError('not_found', `no service ${req.params.name}`, { field: 'name' });
    return serviceView(s, await store.listReplicas(s.name));
  });
  app.put<{ Params: { name: string } }>('/services/:name', async (req, reply) => {
    const name = parse(nameSchema, req.params.name);
    const body = parse(servicePut, req.body);
    checkPolicy(name, body.container, 'container.');
    const { record, created } = await store.putService({ name, replicas: body.replicas, container: body.container, constraints: body.constraints ?? [] }, Date.now());
    o.controller.wake();
    void reply.status(created ? 201 : 200);
    return serviceView(record, await store.listReplicas(name));
  });
  app.delete<{ Params: { name: string } }>('/services/:name', async (req, reply) => {
    if (!(await store.deleteService(req.params.name, Date.now()))) throw new BosunError('not_found', `no service ${req.params.name}`, { field: 'name' });
    o.controller.wake();
    void reply.status(202);
    return { name: req.params.name, deleted: true };
  });
  app.get('/nodes', async () => {
    const now = Date.now();
    const [nodes, replicas] = await Promise.all([store.listNodes(), store.listReplicas()]);
    return {
      nodes: nodes.map((n) => ({
        name: n.name, labels: n.labels, free: n.free, status: isAlive(n, now, o.heartbeatGraceMs) ? n.status : 'down',
        lastHeartbeat: new Date(n.lastHeartbeat).toISOString(), replicas: replicas.filter((r) => r.node === n.name && r.desired === 'run').length,
      })),
    };
  });
  for (const [path, status] of [['drain', 'draining'], ['undrain', 'ready']] as const) {
    app.post<{ Params: { name: string } }>(`/nodes/:name/${path}`, async (req) => {
      if (!(await store.setNodeStatus(req.params.name, status))) throw new BosunError('not_found', `no node ${req.params.name}`, { field: 'name' });
      o.controller.wake();
      return { name: req.params.name, status };
    });
  }
  app.get('/controller', async () => o.controller.status());
  return app;
}
