/** seed 001's routes: POST /service, /state, /service_state, /node_state, /container_state, /recommendNodes. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiContext } from './api.js';
import { nameFilter, parse, recommendNodes, seedAction, seedContainerFor } from './api-rules.js';
import { seedContainerState, seedNodeState, seedServiceState, seedSummary } from './views.js';

export function seedRoutes(app: FastifyInstance, c: ApiContext): void {
  const { store, schemas, clock } = c;
  app.post('/service', async (req) => {
    const body = parse(schemas.seedPost, req.body);
    const results = [];
    for (const [i, s] of body.services.entries()) c.checkPolicy(s.serviceName, s.container, `services.${i}.container.`);
    for (const [i, s] of body.services.entries()) {
      const old = await store.getService(s.serviceName);
      const container = seedContainerFor(old, s.serviceName, s.container, `services.${i}.container`);
      const { record, created } = await store.putService({ name: s.serviceName, replicas: s.replicas, container, constraints: old?.constraints ?? [] }, clock.now());
      results.push({ serviceName: record.name, replicas: record.replicas, action: seedAction(old, created, s.replicas) });
    }
    c.controller.wake();
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
      return seedNodeState(await store.listNodes(), clock.now(), c.heartbeatGraceMs).filter((n) => !name || n.name === name);
    } });
    app.route({ method, url: '/container_state', handler: async (req) => {
      const a = await all();
      const name = method === 'POST' ? filterName(req) : undefined;
      return seedContainerState(a.services, a.replicas).filter((x) => !name || x.service_map === name || x.name === name);
    } });
  }
  app.post('/recommendNodes', async (req) => {
    const body = parse(schemas.recommend, req.body);
    const [nodes, replicas] = await Promise.all([store.listNodes(), store.listReplicas()]);
    return { nodes: recommendNodes(nodes, replicas, body, clock.now(), c.heartbeatGraceMs) };
  });
}
