/**
 * The import-boundary lint must bite: each rule is fed a file that breaks it (eslint's
 * lintText with a path inside src/, nothing written to disk) and must name the boundary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: new URL('../../..', import.meta.url).pathname });

async function messages(code: string, filePath: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath });
  return (r?.messages ?? []).map((m) => m.message);
}

test('an SDK outside its adapter folder is refused, naming where it belongs', async () => {
  const m = await messages("import Docker from 'dockerode';\nexport const d = Docker;\n", 'src/actions/x.ts');
  assert.equal(m.length, 1);
  assert.match(m[0]!, /boundary: dockerode is used only in src\/adapters\/engine-docker/);
  assert.deepEqual(await messages("import Docker from 'dockerode';\nexport const d = Docker;\n", 'src/adapters/engine-docker/x.ts'), []);
  assert.match((await messages("import { Redis } from 'ioredis';\nexport const r = Redis;\n", 'src/agent/x.ts'))[0]!, /ioredis is used only in src\/adapters\/transport-redis/);
  assert.match((await messages("import amqp from 'amqplib';\nexport const a = amqp;\n", 'src/cluster/x.ts'))[0]!, /amqplib/);
  assert.match((await messages("import pg from 'pg';\nexport const p = pg;\n", 'src/app/x.ts'))[0]!, /pg is used only in src\/adapters\/store-sql/);
});

test('fastify is for the HTTP layer; elsewhere only its types', async () => {
  assert.match((await messages("import Fastify from 'fastify';\nexport const f = Fastify;\n", 'src/agent/x.ts'))[0]!, /fastify is used only in the HTTP layer/);
  assert.deepEqual(await messages("import type { FastifyInstance } from 'fastify';\nexport type F = FastifyInstance;\n", 'src/app/x.ts'), []);
});

test('domain and planner import no side-effecting layer, and ports as types only', async () => {
  assert.match((await messages("import { Agent } from '../agent/agent.js';\nexport const a = Agent;\n", 'src/domain/x.ts'))[0]!, /pure layers \(domain, planner\) do not import src\/agent/);
  assert.match((await messages("import { runStack } from '../../stacks/run-stack.js';\nexport const r = runStack;\n", 'src/planner/stack/x.ts'))[0]!, /do not import src\/stacks/);
  assert.match((await messages("import { systemClock } from '../ports/clock.js';\nexport const c = systemClock;\n", 'src/domain/x.ts'))[0]!, /import only domain/);
  assert.match((await messages("import type { ContainerEngine } from '../../ports/engine.js';\nexport type E = ContainerEngine;\n", 'src/planner/stack/x.ts'))[0]!, /import only domain/);
  assert.deepEqual(await messages("import type { ContainerSpec } from '../../domain/engine/index.js';\nexport type S = ContainerSpec;\n", 'src/planner/stack/x.ts'), []);
});

test('engines are built only by the factory', async () => {
  const code = "import { DockerEngine } from '../adapters/engine-docker/docker-engine.js';\nexport const e = new DockerEngine();\n";
  assert.match((await messages(code, 'src/app/x.ts'))[0]!, /built only by createEngine\(\) in src\/adapters\/engine-factory.ts/);
  assert.match((await messages(code.replace('../adapters', '../../adapters'), 'src/cluster/node/x.ts'))[0]!, /createEngine/);
  assert.deepEqual(await messages("import { createEngine } from '../adapters/engine-factory.js';\nexport const e = createEngine();\n", 'src/app/x.ts'), []);
});
