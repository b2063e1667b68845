/** The OpenAPI 3.1 document served at GET /openapi.json (hand-written, kept next to the routes). */
const error = { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } }, required: ['code', 'message'] } } };
const resources = { type: 'object', properties: { cpu: { type: 'number', description: 'millicores' }, memMb: { type: 'number' }, diskMb: { type: 'number' } }, required: ['cpu', 'memMb', 'diskMb'] };
const container = {
  type: 'object', required: ['name', 'image'],
  properties: {
    name: { type: 'string', pattern: '^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$' }, image: { type: 'string' },
    env: { type: 'array', items: { type: 'string' } }, cmd: { type: 'array', items: { type: 'string' } },
    ports: { type: 'array', items: { type: 'string', description: 'hostPort:containerPort[/proto]' } },
    labels: { type: 'object', additionalProperties: { type: 'string' } }, resources,
  },
};
const servicePut = {
  type: 'object', required: ['replicas', 'container'],
  properties: {
    replicas: { type: 'integer', minimum: 0 }, container,
    constraints: { type: 'array', items: { type: 'object', properties: { label: { type: 'string' }, op: { enum: ['=', '!='] }, value: { type: 'string' } } } },
  },
};
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const errors = { 400: { description: 'invalid request', ...json(error) }, 401: { description: 'bad token', ...json(error) } };

export const OPENAPI = {
  openapi: '3.1.0',
  info: { title: 'bosun cluster API', version: '0.1.0' },
  components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  security: [{ bearer: [] }],
  paths: {
    '/service': { post: { summary: 'seed 001: create or scale services', requestBody: json({ type: 'object', properties: { services: { type: 'array', items: { type: 'object', properties: { serviceName: { type: 'string' }, replicas: { type: 'integer' }, container: { type: 'object', properties: { name: { type: 'string' }, image: { type: 'string' } } } } } } } }), responses: { 200: { description: 'done' }, 409: { description: 'image or name change refused', ...json(error) }, ...errors } } },
    '/state': { get: { summary: 'seed 001 summary', responses: { 200: { description: '{containers, services, nodes}' } } } },
    '/service_state': { get: { summary: 'seed 001 services' }, post: { summary: 'seed 001 services, filtered by {name}' } },
    '/node_state': { get: { summary: 'seed 001 nodes' }, post: { summary: 'seed 001 nodes, filtered by {name}' } },
    '/container_state': { get: { summary: 'seed 001 containers' }, post: { summary: 'seed 001 containers, filtered by {name}' } },
    '/recommendNodes': { post: { summary: 'seed 001: nodes the scheduler would pick', requestBody: json({ type: 'object', properties: { nodes: { type: 'array', items: { type: 'string' } }, replicas: { type: 'integer' } } }) } },
    '/services': { get: { summary: 'all services with status and assignments' } },
    '/services/{name}': {
      get: { summary: 'one service: spec, progress, assignments and why', responses: { 200: { description: 'service' }, 404: { description: 'unknown', ...json(error) } } },
      put: { summary: 'create or update (a container change rolls replicas one at a time)', requestBody: json(servicePut), responses: { 200: { description: 'updated' }, 201: { description: 'created' }, ...errors } },
      delete: { summary: 'delete: replicas stop, then the service disappears', responses: { 202: { description: 'accepted' }, 404: { description: 'unknown', ...json(error) } } },
    },
    '/nodes': { get: { summary: 'nodes with free resources and liveness' } },
    '/nodes/{name}/drain': { post: { summary: 'move replicas away (each only once its successor can be placed)' } },
    '/nodes/{name}/undrain': { post: { summary: 'take new work again' } },
    '/controller': { get: { summary: "this server's controller: leader?, epoch, last plan" } },
    '/healthz': { get: { summary: 'liveness', security: [] } },
    '/metrics': { get: { summary: 'Prometheus metrics: leader, reconcile duration, placements, stops, unplaced/delayed replicas, nodes, replicas by state' } },
  },
} as const;
