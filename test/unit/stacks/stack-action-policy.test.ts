/**
 * The `stack` channel must not read arbitrary host files: `stack.path`, a `.env` beside it
 * and any env_file must resolve (symlinks followed) below the policy's build_roots.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { StackMessage, loadStackOf } from '../../../src/actions/stack.js';
import { isBosunError } from '../../../src/domain/errors.js';
import { PolicySchema } from '../../../src/domain/policy.js';
import { desiredContainers } from '../../../src/planner/stack/containers.js';

const base = mkdtempSync(join(tmpdir(), 'bosun-stack-policy-'));
const root = join(base, 'root');
const outside = join(base, 'outside');
mkdirSync(root);
mkdirSync(outside);
const policy = PolicySchema.parse({ build_roots: [root] });
const compose = 'services:\n  app:\n    image: busybox\n    environment: {A: "${SECRET:-none}"}\n';

const msg = (stack: unknown) => StackMessage.parse({ action: 'plan', stack });
function denied(fn: () => unknown, field: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isBosunError(e), String(e));
    assert.equal(e.code, 'policy_denied', e.message);
    assert.equal(e.field, field);
    assert.match(e.message, message);
    return true;
  });
}

describe('stack channel: host files only below build_roots', () => {
  after(() => rmSync(base, { recursive: true, force: true }));

  it('a stack file below build_roots loads', () => {
    writeFileSync(join(root, 'ok.yml'), compose);
    const s = loadStackOf(msg({ path: join(root, 'ok.yml') }), policy);
    assert.deepEqual(Object.keys(s.services), ['app']);
  });

  it('refuses a path outside build_roots, naming stack.path', () => {
    writeFileSync(join(outside, 'secret.yml'), compose);
    denied(() => loadStackOf(msg({ path: join(outside, 'secret.yml') }), policy), 'stack.path', /outside the allowed roots/);
  });

  it('refuses forbidden host files (default policy: /etc)', () => {
    denied(() => loadStackOf(msg({ path: '/etc/passwd' }), PolicySchema.parse({})), 'stack.path', /forbidden path \/etc/);
  });

  it('refuses a symlink below build_roots that points outside', () => {
    writeFileSync(join(outside, 'target.yml'), compose);
    symlinkSync(join(outside, 'target.yml'), join(root, 'link.yml'));
    denied(() => loadStackOf(msg({ path: join(root, 'link.yml') }), policy), 'stack.path', /outside the allowed roots/);
  });

  it('refuses a relative path that climbs out (and a missing file outside) without reading it', () => {
    denied(() => loadStackOf(msg({ path: relative(process.cwd(), join(outside, 'nope.yml')) }), policy), 'stack.path', /outside the allowed roots/);
    denied(() => loadStackOf(msg({ path: `${root}/../outside/nope.yml` }), policy), 'stack.path', /outside the allowed roots/);
  });

  it('refuses an env_file outside build_roots (inline and path stacks)', () => {
    writeFileSync(join(outside, 'vars.env'), 'A=1\n');
    const inline = `services:\n  app:\n    image: busybox\n    env_file: ${join(outside, 'vars.env')}\n`;
    denied(() => loadStackOf(msg({ inline, base_dir: root }), policy), 'stack.services.app.env_file', /outside the allowed roots/);
    const dir = join(root, 'envfile');
    mkdirSync(dir);
    writeFileSync(join(dir, 'compose.yml'), 'services:\n  app:\n    image: busybox\n    env_file: ../../outside/vars.env\n');
    denied(() => loadStackOf(msg({ path: join(dir, 'compose.yml') }), policy), 'stack.services.app.env_file', /outside the allowed roots/);
    writeFileSync(join(dir, 'inside.env'), 'B=2\n');
    writeFileSync(join(dir, 'compose2.yml'), 'services:\n  app:\n    image: busybox\n    env_file: inside.env\n');
    const s = loadStackOf(msg({ path: join(dir, 'compose2.yml') }), policy);
    assert.ok(desiredEnv(s).includes('B=2'));
  });

  it('refuses a .env beside the stack file that links outside', () => {
    const dir = join(root, 'dotenv');
    mkdirSync(dir);
    writeFileSync(join(outside, 'dot.env'), 'SECRET=x\n');
    symlinkSync(join(outside, 'dot.env'), join(dir, '.env'));
    writeFileSync(join(dir, 'compose.yml'), compose);
    denied(() => loadStackOf(msg({ path: join(dir, 'compose.yml') }), policy), 'stack.dotenv', /outside the allowed roots/);
  });
});

function desiredEnv(s: ReturnType<typeof loadStackOf>): string[] {
  return desiredContainers(s, s.services.app!)[0]!.spec.env ?? [];
}

describe("stack channel: interpolation never sees the agent's environment", () => {
  it('uses only the message variables and the stack .env', () => {
    process.env.SECRET = 'agent-secret';
    try {
      const inline = loadStackOf(StackMessage.parse({ action: 'plan', stack: { inline: compose } }), policy);
      assert.ok(JSON.stringify(inline).includes('A=none'), JSON.stringify(inline.services.app));
      assert.ok(!JSON.stringify(inline).includes('agent-secret'));
      const given = loadStackOf(StackMessage.parse({ action: 'plan', stack: { inline: compose }, variables: { SECRET: 'mine' } }), policy);
      assert.ok(JSON.stringify(given).includes('A=mine'));
    } finally {
      delete process.env.SECRET;
    }
  });
});

describe('stack channel: extends files too', () => {
  const b = mkdtempSync(join(tmpdir(), 'bosun-stack-extends-'));
  const inside = join(b, 'root');
  const out = join(b, 'outside');
  mkdirSync(inside);
  mkdirSync(out);
  const p = PolicySchema.parse({ build_roots: [inside] });
  after(() => rmSync(b, { recursive: true, force: true }));

  it('refuses an extends file outside build_roots, naming stack.extends.file; one inside loads', () => {
    writeFileSync(join(out, 'base.yml'), compose);
    writeFileSync(join(inside, 'ext.yml'), `services:\n  app:\n    extends: {file: ${join(out, 'base.yml')}, service: app}\n`);
    denied(() => loadStackOf(msg({ path: join(inside, 'ext.yml') }), p), 'stack.extends.file', /outside the allowed roots/);
    writeFileSync(join(inside, 'base.yml'), compose);
    writeFileSync(join(inside, 'ext-ok.yml'), 'services:\n  app:\n    extends: {file: base.yml, service: app}\n');
    assert.deepEqual(Object.keys(loadStackOf(msg({ path: join(inside, 'ext-ok.yml') }), p).services), ['app']);
  });
});

describe('stack channel: files are checked by what was opened', () => {
  const b = mkdtempSync(join(tmpdir(), 'bosun-stack-open-'));
  const inside = join(b, 'root');
  mkdirSync(inside);
  const p = PolicySchema.parse({ build_roots: [inside] });
  after(() => rmSync(b, { recursive: true, force: true }));

  it('a FIFO planted as env_file is refused without blocking the agent', () => {
    execFileSync('mkfifo', [join(inside, 'pipe.env')]);
    const inline = 'services:\n  app:\n    image: busybox\n    env_file: pipe.env\n';
    denied(() => loadStackOf(msg({ inline, base_dir: inside }), p), 'stack.services.app.env_file', /not a regular file/);
  });

  it('a path swapped between check and read (a container flipping a symlink) never yields the outside file', async () => {
    mkdirSync(join(inside, 'good'));
    writeFileSync(join(inside, 'good', 'f.env'), 'A=inside\n');
    const out = join(b, 'evil');
    mkdirSync(out);
    writeFileSync(join(out, 'f.env'), 'A=SECRET\n');
    const link = join(inside, 'x');
    symlinkSync(join(inside, 'good'), link);
    const flipper = spawn('sh', ['-c', `while :; do ln -sfn ${out} ${link}.t && mv -T ${link}.t ${link}; ln -sfn ${join(inside, 'good')} ${link}.t && mv -T ${link}.t ${link}; done`], { stdio: 'ignore' });
    const seen = { inside: 0, refused: 0 };
    try {
      for (let i = 0; i < 3000; i++) {
        try {
          const s = loadStackOf(msg({ inline: 'services:\n  app:\n    image: busybox\n    env_file: x/f.env\n', base_dir: inside }), p);
          assert.deepEqual(desiredEnv(s), ['A=inside']);
          seen.inside++;
        } catch (e) {
          assert.ok(isBosunError(e) && e.code === 'policy_denied', String(e));
          seen.refused++;
        }
        if (i % 200 === 0) await new Promise((r) => setImmediate(r));
      }
    } finally {
      flipper.kill('SIGKILL');
    }
    assert.ok(seen.inside > 0 && seen.refused > 0, `the race was live: ${JSON.stringify(seen)}`);
  });
});
