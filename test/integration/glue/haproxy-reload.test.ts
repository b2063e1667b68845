/** HaproxyProcess against a real haproxy without Docker: the `sf` and `command` reload modes. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HaproxyProcess } from '../../../src/glue/haproxy-process.js';
import { silentLogger } from '../../../src/util/log.js';
import { eventually } from '../../helpers/docker.js';
import { freePort, get, tempDir } from './fixtures.js';

const dirs: { remove(): Promise<void> }[] = [];
const pids: number[] = [];

after(async () => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (const d of dirs) await d.remove();
});

function config(port: number, text: string): string {
  return `defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\nfrontend f\n    bind 127.0.0.1:${port}\n    http-request return status 200 content-type text/plain string "${text}"\n`;
}

test('reload=sf: haproxy -D -sf replaces the old process; a refused config changes nothing', async () => {
  const dir = await tempDir('glue-sf-');
  dirs.push(dir);
  const port = await freePort();
  const pidFile = join(dir.path, 'h.pid');
  const p = new HaproxyProcess({ configFile: join(dir.path, 'h.cfg'), pidFile, haproxyBin: 'haproxy', reload: 'sf', stopOnClose: true, log: silentLogger });
  await p.apply(config(port, 'one'));
  const pid1 = Number((await readFile(pidFile, 'utf8')).trim());
  pids.push(pid1);
  await eventually('one served', async () => (await get(port, '/')).body === 'one');
  await p.apply(config(port, 'two'));
  const pid2 = Number((await readFile(pidFile, 'utf8')).trim());
  pids.push(pid2);
  assert.notEqual(pid2, pid1);
  await eventually('two served', async () => (await get(port, '/')).body === 'two');
  await assert.rejects(p.apply(`${config(port, 'three')}    bogus_keyword\n`), /haproxy -c refused/);
  assert.equal((await readFile(pidFile, 'utf8')).trim(), String(pid2));
  assert.match(await readFile(join(dir.path, 'h.cfg'), 'utf8'), /"two"/);
  assert.equal((await get(port, '/')).body, 'two');
  assert.deepEqual(await p.apply(config(port, 'two')), { changed: false, reloaded: false }, 'unchanged config skipped');
});

test('reload=command runs the configured command after a validated swap', async () => {
  const dir = await tempDir('glue-cmd-');
  dirs.push(dir);
  const marker = join(dir.path, 'reloaded');
  const p = new HaproxyProcess({ configFile: join(dir.path, 'h.cfg'), pidFile: join(dir.path, 'h.pid'), haproxyBin: 'haproxy', reload: 'command', reloadCommand: `echo ok >> ${marker}`, stopOnClose: true, log: silentLogger });
  await p.apply(config(1, 'x'));
  await p.apply(config(1, 'y'));
  await p.apply(config(1, 'y'));
  assert.equal((await readFile(marker, 'utf8')).trim().split('\n').length, 2);
});
