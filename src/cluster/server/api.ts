/**
 * REST API: seed 001's routes (POST /service, /state, /service_state, /node_state,
 * /container_state, /recommendNodes) and bosun's own (/services, /nodes, drain,
 * /openapi.json). Bearer-token auth unless built insecure; unknown fields are errors; a
 * server policy refuses a spec at PUT time (the node checks again); errors name the field.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { BosunError } from '../../domain/errors.js';
import { enforcePolicy, type Policy } from '../../domain/policy.js';
import type { Registry } from 'prom-client';
import { systemClock, type Clock } from '../../ports/clock.js';
import type { ClusterStore } from '../../ports/store.js';
import type { Logger } from '../../util/log.js';
import type { ContainerTemplate } from '../../domain/cluster.js';
import { containerSpecFor } from '../node/spec.js';
import { bearerMatches } from './auth.js';
import { STATUS, errorBody, toApiError } from './api-errors.js';
import { ownRoutes } from './api-own-routes.js';
import { apiSchemas, type ApiSchemas } from './api-rules.js';
import { seedRoutes } from './api-seed-routes.js';
import type { Controller } from './controller.js';
import { OPENAPI } from './openapi.js';

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
  clock?: Clock;
}

/** What the route groups share. */
export interface ApiContext {
  store: ClusterStore;
  controller: Controller;
  schemas: ApiSchemas;
  clock: Clock;
  heartbeatGraceMs: number;
  /** Throws policy_denied naming `<prefix><field>` when the server policy refuses the container. */
  checkPolicy(name: string, container: ContainerTemplate, prefix: string): void;
}

export const DEFAULT_MAX_REPLICAS = 100;

const OPEN_PATHS = new Set(['/healthz', '/openapi.json']);

export function buildApi(o: ApiOptions): FastifyInstance {
  if (!o.token && !o.insecureNoAuth) throw new BosunError('policy_denied', 'the cluster API needs a token unless insecureNoAuth is set', { field: 'token' });
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  const ctx: ApiContext = {
    store: o.store, controller: o.controller, schemas: apiSchemas(o.maxReplicas ?? DEFAULT_MAX_REPLICAS), clock: o.clock ?? systemClock, heartbeatGraceMs: o.heartbeatGraceMs,
    checkPolicy: (name, container, prefix) => {
      if (!o.policy) return;
      enforcePolicy(o.policy, containerSpecFor({ type: 'run', service: name, slot: 0, generation: 1, specVersion: 1, container }, 'server'), prefix);
    },
  };

  app.setErrorHandler((e: unknown, _req: FastifyRequest, reply: FastifyReply) => {
    const err = toApiError(e, o.log);
    void reply.status(STATUS[err.code] ?? 500).send(errorBody(err));
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
  seedRoutes(app, ctx);
  ownRoutes(app, ctx);
  return app;
}
