import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScriptHandler, resolveScript } from '../../../src/glue/handlers/script.js';
import { isBosunError } from '../../../src/domain/errors.js';
import type { HandlerConfig, HandlerContext } from '../../../src/glue/types.js';
import { silentLogger } from '../../../src/util/log.js';

async function setup(body: string, params: Record<string, string> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'glue-script-'));
  await writeFile(join(dir, 's.sh'), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  const cfg: HandlerConfig = { name: 't', file: join(dir, 't.ini'), type: 'script', events: ['all'], enabled: true, triggersNone: false, params: { script: 's.sh', ...params }, dir };
  return { dir, cfg, handler: new ScriptHandler(cfg, await resolveScript(cfg)) };
}

function ctx(event: string, id: string): HandlerContext {
  return { event: { event, containerId: id }, snapshot: async () => [], signal: new AbortController().signal, log: silentLogger };
}

test('script gets <config-file> <event> <container-id>, runs in the config dir', async () => {
  const { dir, cfg, handler } = await setup('echo "$# $1 $2 $3 $(pwd)" > out.txt');
  await handler.handle(ctx('start', 'abc123'));
  assert.equal((await readFile(join(dir, 'out.txt'), 'utf8')).trim(), `3 ${cfg.file} start abc123 ${dir}`);
  await handler.handle(ctx('none', ''));
  assert.match(await readFile(join(dir, 'out.txt'), 'utf8'), /^3 .* none {2}/);
  await rm(dir, { recursive: true });
});

test('a script over its timeout is killed and reported as timeout', async () => {
  const { dir, handler } = await setup('sleep 5', { timeout_ms: '200' });
  await assert.rejects(handler.handle(ctx('start', 'x')), (e) => isBosunError(e) && e.code === 'timeout');
  await rm(dir, { recursive: true });
});

test('a non-zero exit is a (retryable) failure with its stderr', async () => {
  const { dir, handler } = await setup('echo nope >&2; exit 3');
  await assert.rejects(handler.handle(ctx('die', 'x')), (e) => isBosunError(e) && e.code === 'nonzero_exit' && e.retryable && /nope/.test(e.message));
  await rm(dir, { recursive: true });
});

test('a missing script is refused when the handler is built', async () => {
  const cfg: HandlerConfig = { name: 't', file: '/x/t.ini', type: 'script', events: [], enabled: true, triggersNone: false, params: { script: 'nope.sh' }, dir: '/nonexistent' };
  await assert.rejects(resolveScript(cfg), /not found/);
});

test('a script that leaves a background child finishes at its own exit; one over its timeout is ended with its whole group', async () => {
  const quick = await setup('sleep 30 & echo started');
  const t0 = Date.now();
  await quick.handler.handle(ctx('start', 'x'));
  assert.ok(Date.now() - t0 < 10_000, 'not held for the 30 s background sleep');
  await rm(quick.dir, { recursive: true });
  const slow = await setup('sleep 30 & sleep 30', { timeout_ms: '300' });
  const t1 = Date.now();
  await assert.rejects(slow.handler.handle(ctx('start', 'x')), (e) => isBosunError(e) && e.code === 'timeout');
  assert.ok(Date.now() - t1 < 10_000, 'the 300 ms timeout holds even with a 30 s background child');
  await rm(slow.dir, { recursive: true });
});
