/** bosun's own routes: /services (CRUD), /nodes (list, drain, undrain), /controller. */
import type { FastifyInstance } from 'fastify';
import { BosunError } from '../../domain/errors.js';
import { nameSchema } from '../protocol.js';
import type { ApiContext } from './api.js';
import { parse } from './api-rules.js';
import { isAlive, serviceView } from './views.js';

export function ownRoutes(app: FastifyInstance, c: ApiContext): void {
  const { store, schemas, clock } = c;
  app.get('/services', async () => {
    const [services, replicas] = await Promise.all([store.listServices(), store.listReplicas()]);
    return { services: services.map((s) => serviceView(s, replicas)) };
  });
  app.get<{ Params: { name: string } }>('/services/:name', async (req) => {
    const s = await store.getService(req.params.name);
    if (!s) throw new BosunError('not_found', `no service ${req.params.name}`, { field: 'name' });
    return serviceView(s, await store.listReplicas(s.name));
  });
  app.put<{ Params: { name: string } }>('/services/:name', async (req, reply) => {
    const name = parse(nameSchema, req.params.name);
    const body = parse(schemas.servicePut, req.body);
    c.checkPolicy(name, body.container, 'container.');
    const { record, created } = await store.putService({ name, replicas: body.replicas, container: body.container, constraints: body.constraints ?? [] }, clock.now());
    c.controller.wake();
    void reply.status(created ? 201 : 200);
    return serviceView(record, await store.listReplicas(name));
  });
  app.delete<{ Params: { name: string } }>('/services/:name', async (req, reply) => {
    if (!(await store.deleteService(req.params.name, clock.now()))) throw new BosunError('not_found', `no service ${req.params.name}`, { field: 'name' });
    c.controller.wake();
    void reply.status(202);
    return { name: req.params.name, deleted: true };
  });
  app.get('/nodes', async () => {
    const now = clock.now();
    const [nodes, replicas] = await Promise.all([store.listNodes(), store.listReplicas()]);
    return {
      nodes: nodes.map((n) => ({
        name: n.name, labels: n.labels, free: n.free, status: isAlive(n, now, c.heartbeatGraceMs) ? n.status : 'down',
        lastHeartbeat: new Date(n.lastHeartbeat).toISOString(), replicas: replicas.filter((r) => r.node === n.name && r.desired === 'run').length,
      })),
    };
  });
  for (const [path, status] of [['drain', 'draining'], ['undrain', 'ready']] as const) {
    app.post<{ Params: { name: string } }>(`/nodes/:name/${path}`, async (req) => {
      if (!(await store.setNodeStatus(req.params.name, status))) throw new BosunError('not_found', `no node ${req.params.name}`, { field: 'name' });
      c.controller.wake();
      return { name: req.params.name, status };
    });
  }
  app.get('/controller', async () => c.controller.status());
}
