import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

/** /healthz and /metrics for an agent process. */
export async function startStatusServer(listen: string, registry: Registry, healthy: () => { ok: boolean; details: Record<string, unknown> }): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.get('/healthz', async (_req, reply) => {
    const h = healthy();
    return reply.code(h.ok ? 200 : 503).send(h);
  });
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  const idx = listen.lastIndexOf(':');
  const host = idx > 0 ? listen.slice(0, idx) : '127.0.0.1';
  const port = Number(idx >= 0 ? listen.slice(idx + 1) : listen);
  await app.listen({ host, port });
  return app;
}
