import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseStack } from '../../../src/stacks/load.js';
import { isBosunError } from '../../../src/domain/errors.js';
import { LABEL } from '../../../src/domain/labels.js';
import { desiredContainers } from '../../../src/planner/stack/containers.js';
import { interpolate, parseDurationMs, parsePortShort, parseSize, shellSplit } from '../../../src/stacks/compose-values.js';

function problemsOf(text: string): { path: string; message: string; line?: number; col?: number }[] {
  try {
    parseStack(text, { name: 's', baseDir: '/srv/app', env: {} });
  } catch (e) {
    assert.ok(isBosunError(e) && e.code === 'invalid_message');
    return (e.details as { problems: { path: string; message: string; line?: number; col?: number }[] }).problems;
  }
  assert.fail('expected the stack to be refused');
}

const FULL = `
name: shop
services:
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: \${PW:-secret}
    volumes: ["data:/var/lib/postgresql/data", "./init:/docker-entrypoint-initdb.d:ro"]
    healthcheck: {test: "pg_isready", interval: 1s, retries: 5}
    mem_limit: 256m
    cpus: 0.5
    restart: on-failure:3
    x-bosun: {persistent: true, attached: {sock: /run/pg}}
  web:
    image: shop/web
    command: ["serve", "--port", "80"]
    ports: ["127.0.0.1:8080:80", "9000/udp"]
    depends_on:
      db: {condition: service_healthy, restart: true}
    stop_grace_period: 1m30s
    deploy: {resources: {limits: {memory: 1g, cpus: "2"}}}
    x-bosun:
      instances: [a, b]
      exec_commands: [{cmd: "sh -c 'echo warm'", policy: initial}]
      links: ["db:database"]
volumes:
  data: {}
`;

describe('stack loader (Compose + x-bosun)', () => {
  it('reads services, values and extensions', () => {
    const s = parseStack(FULL, { baseDir: '/srv/app', env: {} });
    assert.equal(s.name, 'shop');
    const db = s.services.db!;
    assert.deepEqual(db.container.env, ['POSTGRES_PASSWORD=secret']);
    assert.deepEqual(db.container.mounts?.[0], { type: 'volume', source: 'shop_data', target: '/var/lib/postgresql/data' });
    assert.deepEqual(db.container.mounts?.[1], { type: 'bind', source: '/srv/app/init', target: '/docker-entrypoint-initdb.d', readOnly: true });
    assert.deepEqual(db.container.mounts?.[2], { type: 'volume', source: 'shop_db_sock', target: '/run/pg' });
    assert.deepEqual(db.container.healthcheck, { test: ['CMD-SHELL', 'pg_isready'], intervalMs: 1000, retries: 5 });
    assert.deepEqual(db.container.resources, { memory: 256 * 1024 ** 2, nanoCpus: 5e8 });
    assert.deepEqual(db.container.restartPolicy, { name: 'on-failure', maximumRetryCount: 3 });
    assert.equal(db.persistent, true);
    const web = s.services.web!;
    assert.deepEqual(web.instances, ['a', 'b']);
    assert.deepEqual(web.dependsOn, [{ service: 'db', condition: 'service_healthy', restart: true }]);
    assert.deepEqual(web.links, [{ service: 'db', alias: 'database' }]);
    assert.deepEqual(web.execCommands, [{ cmd: ['sh', '-c', 'echo warm'], policy: 'initial' }]);
    assert.equal(web.container.stopTimeoutSec, 90);
    assert.deepEqual(web.container.portBindings, [{ containerPort: '80/tcp', hostPort: '8080', hostIp: '127.0.0.1' }, { containerPort: '9000/udp', hostPort: '' }]);
    assert.deepEqual(web.container.resources, { memory: 1024 ** 3, nanoCpus: 2e9 });
    assert.deepEqual(web.container.networks, [{ name: 'shop_default', aliases: ['web'] }]);
    assert.ok(s.volumes.some((v) => v.name === 'shop_db_sock' && v.attachedTo === 'db'));
  });

  it('labels each instance with stack, service, instance and spec hash, and resolves links', () => {
    const s = parseStack(FULL, { baseDir: '/srv/app', env: {} });
    const [a, b] = desiredContainers(s, s.services.web!);
    assert.equal(a!.name, 'shop-web-a');
    assert.equal(a!.spec.labels?.[LABEL.stack], 'shop');
    assert.equal(a!.spec.labels?.[LABEL.service], 'web');
    assert.equal(b!.spec.labels?.[LABEL.instance], 'b');
    assert.match(a!.spec.labels?.[LABEL.specHash] ?? '', /^[0-9a-f]{16}$/);
    assert.deepEqual(a!.spec.links, ['shop-db:database']);
  });

  it('gives each schema error its line and column', () => {
    const p = problemsOf('services:\n  web:\n    image: x\n    portz: ["80"]\n  db:\n    image: [1]\n');
    assert.deepEqual(p.map((x) => [x.path, x.line]), [['services.web.portz', 4], ['services.db.image', 6]]);
    assert.match(p[0]!.message, /unknown key "portz"/);
  });

  it('reports YAML syntax errors with their line', () => {
    const p = problemsOf('services:\n  web:\n    image: x\n   bad: [\n');
    assert.ok(p[0]!.line! >= 4, JSON.stringify(p));
  });

  it('names dependency cycles and where they are', () => {
    const p = problemsOf('services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [c]}\n  c: {image: x, depends_on: [a]}\n');
    assert.equal(p.length, 1);
    assert.match(p[0]!.message, /dependency cycle: a -> b -> c -> a/);
    assert.equal(p[0]!.line, 2);
  });

  it('a service that failed on its own is not also reported as undefined by those that depend on it', () => {
    const p = problemsOf('services:\n  a: {image: x, depends_on: [b]}\n  b:\n    image: x\n    volumes: ["nope:/d"]\n');
    assert.deepEqual(p.map((x) => x.path), ['services.b.volumes[0]']);
    assert.match(p[0]!.message, /undefined volume "nope"/);
  });

  it('names undefined services, networks and volumes', () => {
    const p = problemsOf('services:\n  a:\n    image: x\n    depends_on: [ghost]\n    links: ["phantom:p"]\n    networks: [back]\n    volumes: ["nope:/d"]\n');
    const msgs = p.map((x) => `${x.line}: ${x.message}`);
    assert.ok(msgs.some((m) => /^4: .*undefined service "ghost"/.test(m)), msgs.join('\n'));
    assert.ok(msgs.some((m) => /^5: .*links to undefined service "phantom"/.test(m)), msgs.join('\n'));
    assert.ok(msgs.some((m) => /^6: .*undefined network "back"/.test(m)), msgs.join('\n'));
    assert.ok(msgs.some((m) => /^7: .*undefined volume "nope"/.test(m)), msgs.join('\n'));
  });

  it('refuses a service with neither image nor build, and bad values, with their line', () => {
    const p = problemsOf('services:\n  a:\n    command: x\n  b:\n    image: x\n    mem_limit: lots\n');
    assert.deepEqual(p.map((x) => x.line), [2, 4]);
    assert.match(p[1]!.message, /not a size/);
  });

  it('parses Compose value syntaxes', () => {
    assert.equal(parseSize('512m'), 512 * 1024 * 1024);
    assert.equal(parseSize('1.5g'), 1.5 * 1024 ** 3);
    assert.equal(parseDurationMs('1m30s'), 90_000);
    assert.equal(parseDurationMs('250ms'), 250);
    assert.deepEqual(parsePortShort('8080:80'), { containerPort: '80/tcp', hostPort: '8080' });
    assert.deepEqual(parsePortShort(53), { containerPort: '53/tcp', hostPort: '' });
    assert.equal(interpolate('${A:-x}-${B-y}-$C-$$', { A: '', C: 'c' }), 'x-y-c-$');
    assert.throws(() => interpolate('${REQ:?set it}', {}), /REQ/);
    assert.deepEqual(shellSplit(`sh -c 'echo "a b"' x\\ y`), ['sh', '-c', 'echo "a b"', 'x y']);
  });
});

describe('stack loader: extends, abstract, replicas', () => {
  it('extends merges by the Compose rules: maps by key, sequences appended, command replaced, volumes unique by target', () => {
    const s = parseStack(`
services:
  base:
    image: app:1
    command: ["serve"]
    environment: [A=1, B=2]
    labels: {tier: back}
    ports: ["8080:80"]
    volumes: ["./a:/data", "./logs:/logs"]
    x-bosun: {abstract: true}
  web:
    extends: base
    command: ["serve", "--web"]
    environment: {B: "3", C: "4"}
    ports: ["9090:90"]
    volumes: ["./b:/data"]
  worker:
    extends: {service: web}
    environment: {D: "5"}
`, { name: 's', baseDir: '/srv/app', env: {} });
    assert.deepEqual(Object.keys(s.services).sort(), ['web', 'worker'], 'the abstract base makes no containers');
    const web = s.services.web!.container;
    assert.deepEqual(web.cmd, ['serve', '--web']);
    assert.deepEqual([...web.env!].sort(), ['A=1', 'B=3', 'C=4']);
    assert.equal(web.labels!.tier, 'back');
    assert.deepEqual(web.portBindings!.map((p) => p.hostPort).sort(), ['8080', '9090']);
    assert.deepEqual(web.mounts!.map((m) => `${m.source}:${m.target}`).sort(), ['/srv/app/b:/data', '/srv/app/logs:/logs']);
    assert.deepEqual([...s.services.worker!.container.env!].sort(), ['A=1', 'B=3', 'C=4', 'D=5']);
  });

  it('extends from another file rebases its relative paths', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { loadStackFile } = await import('../../../src/stacks/load.js');
    const dir = mkdtempSync(join(tmpdir(), 'bosun-extends-'));
    mkdirSync(join(dir, 'common'));
    writeFileSync(join(dir, 'common', 'base.yml'), 'services:\n  svc:\n    image: x:${TAG:-1}\n    build: ./ctx\n    volumes: ["./conf:/conf"]\n');
    writeFileSync(join(dir, 'compose.yml'), 'services:\n  app:\n    extends: {file: common/base.yml, service: svc}\n');
    const s = loadStackFile(join(dir, 'compose.yml'), { name: 's', env: { TAG: '7' } });
    assert.equal(s.services.app!.image, 'x:7');
    assert.equal(s.services.app!.build!.context, join(dir, 'common', 'ctx'));
    assert.equal(s.services.app!.container.mounts![0]!.source, join(dir, 'common', 'conf'));
  });

  it('extends merges build (context kept, args by key), replaces instances, keeps a network once; same names in two files are no cycle', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { loadStackFile } = await import('../../../src/stacks/load.js');
    const dir = mkdtempSync(join(tmpdir(), 'bosun-extends2-'));
    writeFileSync(join(dir, 'common.yml'), 'services:\n  web:\n    extends: app\n  app:\n    image: x\n');
    writeFileSync(join(dir, 'compose.yml'), [
      'services:',
      '  base: {build: {context: ./ctx, args: {A: "1"}}, networks: [n], x-bosun: {abstract: true, instances: [a, b]}}',
      '  child: {extends: base, build: {args: {B: "2"}}, networks: [n], x-bosun: {instances: [a, c]}}',
      '  app: {extends: {file: common.yml, service: web}}',
      'networks: {n: {}}',
    ].join('\n') + '\n');
    const s = loadStackFile(join(dir, 'compose.yml'), { name: 's', env: {} });
    assert.deepEqual(s.services.child!.build, { context: join(dir, 'ctx'), args: { A: '1', B: '2' } });
    assert.deepEqual(s.services.child!.instances, ['a', 'c']);
    assert.deepEqual(s.services.child!.container.networks!.map((n) => n.name), ['s_n']);
    assert.equal(s.services.app!.image, 'x', 'common.yml#app is not compose.yml#app');
  });

  it('names extends errors: unknown service, cycle', () => {
    const p = problemsOf('services:\n  a:\n    extends: ghost\n  b:\n    extends: c\n    image: x\n  c:\n    extends: b\n    image: x\n');
    const msgs = p.map((x) => `${x.line}: ${x.message}`);
    assert.ok(msgs.some((m) => /^3: .*extends undefined service "ghost"/.test(m)), msgs.join('\n'));
    assert.ok(msgs.some((m) => /extends cycle: b -> c -> b/.test(m)), msgs.join('\n'));
  });

  it('deploy.replicas and scale become counted instances; not with x-bosun.instances', () => {
    const s = parseStack('services:\n  w: {image: x, deploy: {replicas: 3}}\n  v: {image: x, scale: 0}\n', { name: 's', baseDir: '/', env: {} });
    assert.deepEqual(s.services.w!.instances, ['1', '2', '3']);
    assert.deepEqual(desiredContainers(s, s.services.w!).map((c) => c.name), ['s-w-1', 's-w-2', 's-w-3']);
    assert.deepEqual(s.services.v!.instances, []);
    const p = problemsOf('services:\n  w:\n    image: x\n    deploy: {replicas: 2}\n    x-bosun: {instances: [a]}\n');
    assert.match(p[0]!.message, /not both/);
  });

  it('reports schema errors and reference errors in one pass', () => {
    const p = problemsOf('services:\n  a:\n    image: x\n    portz: [1]\n    depends_on: [ghost]\n');
    const msgs = p.map((x) => `${x.line}: ${x.message}`);
    assert.ok(msgs.some((m) => /^4: .*unknown key "portz"/.test(m)), msgs.join('\n'));
    assert.ok(msgs.some((m) => /^5: .*undefined service "ghost"/.test(m)), msgs.join('\n'));
  });

  it('x-bosun uses mounts the owner\'s attached volumes and depends on it; bad references are named', () => {
    const s = parseStack('services:\n  o: {image: x, x-bosun: {attached: {a: /a, b: /b}, permissions: "u=rwX,g=rX,o="}}\n  u: {image: x, x-bosun: {uses: [o.b]}}\n  all: {image: x, x-bosun: {uses: [o]}}\n', { name: 's', baseDir: '/', env: {} });
    assert.deepEqual(s.services.u!.container.mounts, [{ type: 'volume', source: 's_o_b', target: '/b' }]);
    assert.deepEqual(s.services.all!.container.mounts!.map((m) => m.target).sort(), ['/a', '/b']);
    assert.deepEqual(s.services.u!.dependsOn.map((d) => d.service), ['o']);
    assert.equal(s.services.o!.attachedPermissions, 'u=rwX,g=rX,o=');
    const msgs = problemsOf('services:\n  o: {image: x}\n  u:\n    image: x\n    x-bosun: {uses: [o.z, ghost], permissions: "rwx"}\n').map((p) => p.message).join('\n');
    assert.match(msgs, /permissions: a chmod mode/);
    const refs = problemsOf('services:\n  o: {image: x}\n  u:\n    image: x\n    x-bosun: {uses: [o.z, ghost]}\n').map((p) => `${p.line}: ${p.message}`).join('\n');
    assert.match(refs, /5: service "o" has no attached volume "z"/);
    assert.match(refs, /5: uses undefined service "ghost"/);
    const dotted = parseStack('services:\n  my.db: {image: x, x-bosun: {attached: {d: /d}}}\n  u: {image: x, x-bosun: {uses: [my.db, my.db.d]}}\n', { name: 's', baseDir: '/', env: {} });
    assert.deepEqual(dotted.services.u!.container.mounts!.map((m) => m.source), ['s_my.db_d']);
  });

  it('refuses links / network_mode service: to a service scaled to zero', () => {
    const msgs = problemsOf('services:\n  db: {image: x, deploy: {replicas: 0}}\n  a: {image: x, links: [db]}\n').map((p) => p.message).join('\n');
    assert.match(msgs, /"a" links to or shares the network of "db", which has no instances/);
  });
});
