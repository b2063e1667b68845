/** `bosun glue -1` as a process: renders from the current containers, validates, writes, exits. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { LABEL } from '../../../src/domain/labels.js';
import { newRunId, removeTestContainers, testEngine, fileBudget } from '../../helpers/docker.js';
import { routed, startWeb, tempDir } from './fixtures.js';
import { createTestNetwork, removeTestNetwork, testNetworkName } from './fixtures.js';

const engine = testEngine();
const runId = newRunId();
let dir: { path: string; remove(): Promise<void> };

before(async () => {
  await createTestNetwork(engine, runId);
  dir = await tempDir('bosun-glue-once-');
});
after(async () => {
  await removeTestContainers(engine, runId);
  await removeTestNetwork(engine, runId);
  await dir?.remove();
});

function runCli(args: string[]): Promise<number> {
  const cli = new URL('../../../src/app/cli.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { stdio: 'ignore', env: { ...process.env, BOSUN_LOG_LEVEL: 'warn' } });
  return new Promise((resolve, reject) => {
    // -1 must exit (also with reload=master, leaving haproxy behind): one that does not fails here.
    const hangMs = fileBudget(120_000);
    const hang = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`bosun ${args.join(' ')} did not exit within ${hangMs} ms`))), hangMs);
    child.once('exit', (code) => (clearTimeout(hang), resolve(code ?? 1)));
  });
}

test('-1 renders the current containers into the config file (reload=none) and exits 0', async () => {
  const web = await startWeb(engine, runId, 'once', { glue_http_80_host: 'once.test', glue_http_80_prefix: 'shop', glue_http_80_strip_prefix: '1' });
  const cfgFile = join(dir.path, 'haproxy.cfg');
  await writeFile(
    join(dir.path, 'lb.ini'),
    `[handler]\nclass=DockerGlue.handlers.lb.HAProxyHandler\nevents=die,start,none\nenabled=1\n\n[params]\nconfig_file=${cfgFile}\nhttp_bind=127.0.0.1:1\nreload=none\n`,
  );
  await writeFile(join(dir.path, 'off.ini'), `[handler]\nclass=DockerGlue.handlers.exec.ScriptHandler\nenabled=0\n\n[params]\nscript=/nonexistent\n`);
  assert.equal(await runCli(['glue', '-1', '--config-dir', dir.path, '--only-label', `${LABEL.test}=${runId}`]), 0);
  const text = await readFile(cfgFile, 'utf8');
  const ip = (await engine.containers.inspect(web.id))!.networks[testNetworkName(runId)]!.ipAddress;
  assert.match(text, new RegExp(`server ${web.name}_80 ${ip.replace(/\./g, '\\.')}:80 weight 100`));
  assert.match(text, /replace-path \^\/shop\/\?\(\.\*\)\$/);
});

test('-1 exits non-zero when a handler file is broken, after running the others', async () => {
  await writeFile(join(dir.path, 'bad.ini'), `[handler]\nclass=DockerGlue.handlers.demo.DemoHandler\n`);
  assert.equal(await runCli(['glue', '-1', '--config-dir', dir.path, '--only-label', `${LABEL.test}=${runId}`]), 1);
});

test("balancer -1 (seed 004's docker-balancer) renders the same routes from flags alone", async () => {
  const cfgFile = join(dir.path, 'balancer.cfg');
  const code = await runCli(['balancer', '-1', '--config-file', cfgFile, '--http-bind', '127.0.0.1:1', '--reload', 'none', '--only-label', `${LABEL.test}=${runId}`]);
  assert.equal(code, 0);
  assert.match(await readFile(cfgFile, 'utf8'), /-m str once\.test/);
});

test('-1 with reload=master leaves the haproxy it started serving (a daemon), routing the current containers', async () => {
  const sub = join(dir.path, 'master');
  await import('node:fs/promises').then((fs) => fs.mkdir(sub));
  const cfgFile = join(sub, 'haproxy.cfg');
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  await writeFile(join(sub, 'lb.ini'), `[handler]\nclass=DockerGlue.handlers.lb.HAProxyHandler\nevents=die,start,none\nenabled=1\n\n[params]\nconfig_file=${cfgFile}\nhttp_bind=127.0.0.1:${port}\nreload=master\n`);
  assert.equal(await runCli(['glue', '-1', '--config-dir', sub, '--only-label', `${LABEL.test}=${runId}`]), 0);
  const pid = Number((await readFile(`${cfgFile}.pid`, 'utf8')).trim().split('\n')[0]);
  try {
    assert.ok(pid > 0);
    process.kill(pid, 0); // throws if it is gone
    // the first test's container answers /shop/id.txt (prefix stripped) with its own id
    await routed(port, '/shop/app/id.txt', 'once.test', 'app:once');
  } finally {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
});
