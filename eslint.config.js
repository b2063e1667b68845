// Import boundaries, checked in `npm test` (scripts/lint.sh). Each SDK lives in one adapter
// folder; pure layers (domain, planner) reach no side-effecting layer. A violation names its rule.
import tseslint from 'typescript-eslint';

const sdk = (name, home) => ({ name, message: `boundary: ${name} is used only in ${home}` });
const SDKS = {
  dockerode: 'src/adapters/engine-docker',
  amqplib: 'src/adapters/transport-amqp',
  ioredis: 'src/adapters/transport-redis',
  pg: 'src/adapters/store-sql',
  '@electric-sql/pglite': 'src/adapters/store-sql',
  fastify: 'the HTTP layer (src/app/http-status.ts, src/cluster/server/)',
};
const sdkPaths = (except = []) =>
  Object.entries(SDKS)
    .filter(([name]) => !except.includes(name))
    .map(([name, home]) => ({ ...sdk(name, home), allowTypeImports: name === 'fastify' }));

const sideEffectLayers = ['adapters', 'agent', 'actions', 'app', 'stacks', 'cluster', 'glue', 'workflow'];
const pureLayerPatterns = [
  ...sideEffectLayers.map((l) => ({ group: [`**/${l}/*`, `**/${l}/**`], message: `boundary: pure layers (domain, planner) do not import src/${l}` })),
  { group: ['**/ports/*', '**/util/*'], message: 'boundary: pure layers (domain, planner) import only domain (data types live there; ports are interfaces for side-effecting code)' },
];

const engineFactoryOnly = { group: ['**/adapters/engine-docker/*', '**/adapters/engine-fake/*'], message: 'boundary: engines are built only by createEngine() in src/adapters/engine-factory.ts' };

const restrict = (paths, patterns = []) => ({ 'no-restricted-imports': 'off', '@typescript-eslint/no-restricted-imports': ['error', { paths, patterns }] });

export default [
  { ignores: ['dist/**', 'node_modules/**'] },
  // Only the boundary rules run here; disable comments written for other rules are not stale.
  { linterOptions: { reportUnusedDisableDirectives: 'off' } },
  {
    files: ['src/**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: restrict(sdkPaths()),
  },
  { files: ['src/app/**/*.ts', 'src/agent/**/*.ts', 'src/actions/**/*.ts', 'src/stacks/**/*.ts', 'src/cluster/**/*.ts', 'src/glue/**/*.ts', 'src/workflow/**/*.ts', 'src/warm/**/*.ts'], rules: restrict(sdkPaths(), [engineFactoryOnly]) },
  { files: ['src/adapters/engine-docker/**/*.ts'], rules: restrict(sdkPaths(['dockerode'])) },
  { files: ['src/adapters/transport-amqp/**/*.ts'], rules: restrict(sdkPaths(['amqplib'])) },
  { files: ['src/adapters/transport-redis/**/*.ts'], rules: restrict(sdkPaths(['ioredis'])) },
  { files: ['src/adapters/store-sql/**/*.ts'], rules: restrict(sdkPaths(['pg', '@electric-sql/pglite'])) },
  { files: ['src/app/http-status.ts', 'src/cluster/server/**/*.ts'], rules: restrict(sdkPaths(['fastify'])) },
  { files: ['src/domain/**/*.ts', 'src/planner/**/*.ts'], rules: restrict(sdkPaths(), pureLayerPatterns) },
];
