/**
 * `bosun server` and `bosun node` as processes: no API without a token unless
 * --insecure-no-auth, never beyond loopback without one, no node without the cluster key.
 * (On the starting code each of these servers started and served anonymous requests.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { AMQP_URL, stopChild } from '../../helpers/agent.js';
import { eventually, newRunId } from '../../helpers/docker.js';

const CLI = join(import.meta.dirname, '../../../src/app/cli.ts');
const runId = newRunId();
const port = () => 17_000 + Math.floor(Math.random() * 1000);

interface Run { code: number | null; output: string; kill(): Promise<void> }

/** Starts the CLI with no token or key in the environment; resolves when it exits or `untilMs` passes. */
function bosun(args: string[], untilMs: number): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, BOSUN_LOG_LEVEL: 'info' };
  delete env.BOSUN_TOKEN;
  delete env.BOSUN_CLUSTER_KEY;
  const p = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  p.stdout.on('data', (d: Buffer) => (output += d.toString()));
  p.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  const kill = async (): Promise<void> => void (await stopChild(p));
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve({ code: null, get output() { return output; }, kill }), untilMs);
    void exited.then(() => {
      clearTimeout(t);
      resolve({ code: p.exitCode, output, kill });
    });
  });
}

test('a server without a token is refused at start, on 0.0.0.0 even with --insecure-no-auth', async () => {
  for (const extra of [[], ['--insecure-no-auth']]) {
    const r = await bosun(['server', '--http', `0.0.0.0:${port()}`, '--store', 'memory:', '--broker', AMQP_URL, ...extra], 60_000);
    await r.kill();
    assert.equal(r.code, 2, r.output);
    assert.match(r.output, /not starting: refusing to serve the API on 0\.0\.0\.0 without a token/);
  }
});

test('a server without a token on loopback needs --insecure-no-auth; a node needs the cluster key', async () => {
  const server = await bosun(['server', '--http', `127.0.0.1:${port()}`, '--store', 'memory:', '--broker', AMQP_URL], 60_000);
  await server.kill();
  assert.equal(server.code, 2, server.output);
  assert.match(server.output, /the API needs a token/);
  const node = await bosun(['node', '--name', `${runId}-keyless`, '--broker', AMQP_URL], 60_000);
  await node.kill();
  assert.equal(node.code, 2, node.output);
  assert.match(node.output, /a node needs the cluster key/);
});

test('--insecure-no-auth on loopback serves without a token, and says so in its log', async () => {
  const p = port();
  const r = await bosun(['server', '--http', `127.0.0.1:${p}`, '--store', 'memory:', '--broker', AMQP_URL, '--insecure-no-auth', '--name', runId], 3_000);
  try {
    assert.equal(r.code, null, r.output);
    const res = await eventually('API up', async () => fetch(`http://127.0.0.1:${p}/services`).catch(() => undefined), 60_000, 200);
    assert.equal(res.status, 200);
    assert.match(r.output, /INSECURE: the cluster API has no token/);
  } finally {
    await r.kill();
  }
});
