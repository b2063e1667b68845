/**
 * Compose compatibility: a file `docker-compose` 1.29 accepts is accepted by bosun, and both
 * bring up equivalent containers (image, command, entrypoint, env, labels, ports, mounts,
 * restart policy, networks and aliases, user/workdir, limits). docker-compose runs under its
 * own project name and is cleaned up with `docker-compose down -v`.
 */
import { rawDocker } from '../../../test/helpers/raw-docker.js';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { LABEL } from '../../../src/domain/labels.js';
import { loadStackFile } from '../../../src/stacks/load.js';
import { TEST_IMAGE, newRunId, testEngine } from '../../helpers/docker.js';
import { StackFixture } from './helpers.js';

const run = promisify(execFile);
const engine = testEngine();
const runId = newRunId();
const fx = new StackFixture(engine, runId);
const BOSUN = `${runId}b`;
const COMPOSE = `${runId}dc`;
const dataDir = join(fx.dir, 'data');
mkdirSync(dataDir);
writeFileSync(join(dataDir, 'hello.txt'), 'hi\n');
writeFileSync(join(fx.dir, 'extra.env'), 'FROM_FILE=yes\n# a comment\nQUOTED="two words"\n');

const SERVICES = ['db', 'api', 'worker'] as const;
const file = fx.write('compose.yml', `version: "3.8"
services:
  db:
    image: ${TEST_IMAGE}
    command: ["sleep", "3600"]
    environment:
      MODE: prod
      EMPTY: ""
    labels:
      ${LABEL.test}: ${runId}
      com.example.role: database
    volumes:
      - dbdata:/var/lib/db
      - ./data:/data:ro
    restart: unless-stopped
    networks:
      back:
        aliases: [database]
    stop_signal: SIGKILL
    mem_limit: 64m
  api:
    image: ${TEST_IMAGE}
    entrypoint: /bin/sh -c
    command: "exec sleep 3600"
    env_file: extra.env
    environment: [MODE=api, PORT=8080]
    labels: ["${LABEL.test}=${runId}", "com.example.role=api"]
    ports:
      - "8080"
      - "127.0.0.1::9090/udp"
    depends_on: [db]
    networks: [front, back]
    restart: on-failure:3
    working_dir: /data
    user: "1000:1000"
    stop_signal: SIGKILL
  worker:
    image: ${TEST_IMAGE}
    command: sleep 3600
    labels:
      ${LABEL.test}: ${runId}
    volumes:
      - type: volume
        source: dbdata
        target: /shared
        read_only: true
      - type: tmpfs
        target: /scratch
    depends_on:
      db: {condition: service_started}
    hostname: worker-host
    stop_signal: SIGKILL
networks:
  front: {}
  back: {}
volumes:
  dbdata: {}
`);

const dc = (...args: string[]) => run('docker-compose', ['-f', file, '-p', COMPOSE, ...args], { cwd: fx.dir, timeout: 120_000 });

/** What must match between the two, with each project's name factored out. */
function shape(c: Docker.ContainerInspectInfo, project: string) {
  const un = (s: string) => s.replaceAll(project, 'P');
  const env = new Map(c.Config.Env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const declared = ['MODE', 'EMPTY', 'PORT', 'FROM_FILE', 'QUOTED'].filter((k) => env.has(k)).map((k) => `${k}=${env.get(k)}`);
  const labels = Object.fromEntries(Object.entries(c.Config.Labels ?? {}).filter(([k]) => k.startsWith('com.example.') || k === LABEL.test));
  const ports = Object.entries(c.HostConfig.PortBindings ?? {}).map(([p, b]) => `${p}->${(b as { HostIp: string; HostPort: string }[]).map((x) => `${x.HostIp}:${x.HostPort}`).join(',')}`).sort();
  const mounts = c.Mounts.map((m) => `${m.Type}:${m.Type === 'volume' ? un(m.Name ?? '') : m.Source}->${m.Destination}:${m.RW ? 'rw' : 'ro'}`).sort();
  const tmpfs = Object.keys(c.HostConfig.Tmpfs ?? {}).concat((c.HostConfig.Mounts ?? []).filter((m) => m.Type === 'tmpfs').map((m) => m.Target)).sort();
  const networks = Object.entries(c.NetworkSettings.Networks).map(([n, s]) => `${un(n)}[${(s.Aliases ?? []).filter((a: string) => !/^[0-9a-f]{12}$/.test(a) && !a.includes(project)).sort().join(',')}]`).sort();
  return {
    image: c.Config.Image,
    entrypoint: c.Config.Entrypoint ?? null,
    cmd: c.Config.Cmd,
    env: declared.sort(),
    labels,
    ports,
    mounts,
    tmpfs,
    restart: { name: c.HostConfig.RestartPolicy?.Name, max: c.HostConfig.RestartPolicy?.MaximumRetryCount ?? 0 },
    networks,
    user: c.Config.User,
    workdir: c.Config.WorkingDir,
    hostname: c.Config.Hostname.length === 12 && /^[0-9a-f]+$/.test(c.Config.Hostname) ? '<id>' : c.Config.Hostname,
    memory: c.HostConfig.Memory,
    stopSignal: (c.Config as { StopSignal?: string }).StopSignal,
    running: c.State.Running,
  };
}

async function composeContainer(service: string): Promise<Docker.ContainerInspectInfo> {
  const list = await rawDocker().listContainers({ all: true, filters: JSON.stringify({ label: [`com.docker.compose.project=${COMPOSE}`, `com.docker.compose.service=${service}`] }) });
  assert.equal(list.length, 1, `compose container for ${service}`);
  return rawDocker().getContainer(list[0]!.Id).inspect();
}

describe('compose compatibility with docker-compose 1.29', () => {
  before(async () => {
    await engine.info();
  });
  after(async () => {
    await dc('down', '-v', '--remove-orphans').catch(() => undefined);
    await fx.cleanup();
  });

  it('docker-compose accepts the file (config), and so does bosun', async () => {
    const { stdout } = await dc('config', '-q');
    assert.equal(stdout, '');
    const stack = loadStackFile(file, { name: BOSUN });
    assert.deepEqual(Object.keys(stack.services).sort(), [...SERVICES].sort());
  });

  it('both bring up equivalent containers', async () => {
    await dc('up', '-d', '--no-build');
    fx.names.add(BOSUN);
    const r = await fx.run(loadStackFile(file, { name: BOSUN }), 'up');
    assert.ok(r.ok, JSON.stringify(r.containers));
    const shapes: Record<string, ReturnType<typeof shape>> = {};
    for (const s of SERVICES) {
      const ours = shape(await rawDocker().getContainer(`${BOSUN}-${s}`).inspect(), BOSUN);
      const theirs = shape(await composeContainer(s), COMPOSE);
      assert.deepEqual(ours, theirs, `service ${s}`);
      shapes[s] = ours;
    }
    // the comparison is not vacuous: what the file asks for is there
    assert.deepEqual(shapes.api!.ports.map((p) => p.replace(/:\d*$/, ':')), ['8080/tcp->:', '9090/udp->127.0.0.1:']);
    assert.deepEqual(shapes.api!.env, ['FROM_FILE=yes', 'MODE=api', 'PORT=8080', 'QUOTED=two words']);
    assert.deepEqual(shapes.api!.entrypoint, ['/bin/sh', '-c']);
    assert.deepEqual(shapes.api!.restart, { name: 'on-failure', max: 3 });
    assert.deepEqual(shapes.api!.networks, ['P_back[api]', 'P_front[api]']);
    assert.deepEqual(shapes.db!.mounts, [`bind:${dataDir}->/data:ro`, 'volume:P_dbdata->/var/lib/db:rw']);
    assert.deepEqual(shapes.db!.networks, ['P_back[database,db]']);
    assert.deepEqual(shapes.worker!.tmpfs, ['/scratch']);
    assert.equal(shapes.worker!.hostname, 'worker-host');
    assert.equal(shapes.db!.memory, 64 * 1024 * 1024);
  });

  it('the same volumes and networks exist under each project name', async () => {
    for (const [project] of [[BOSUN], [COMPOSE]]) {
      assert.ok(await rawDocker().getVolume(`${project}_dbdata`).inspect(), `${project}_dbdata`);
      for (const n of ['front', 'back']) assert.ok(await rawDocker().getNetwork(`${project}_${n}`).inspect(), `${project}_${n}`);
    }
  });
});

describe('compose compatibility: anchors, extends, network_mode service:, links', () => {
  const B2 = `${runId}b2`;
  const C2 = `${runId}dc2`;
  const file2 = fx.write('compose-extends.yml', `version: "3.8"
x-base: &base
  image: ${TEST_IMAGE}
  stop_signal: SIGKILL
  labels: {${LABEL.test}: ${runId}}
services:
  db:
    <<: *base
    command: sleep 3600
    environment: {ROLE: db}
  side:
    extends: db
    network_mode: "service:db"
    environment: {X: "1"}
  link:
    <<: *base
    command: sleep 3600
    links: ["db:database"]
`);
  const dc2 = (...args: string[]) => run('docker-compose', ['-f', file2, '-p', C2, ...args], { cwd: fx.dir, timeout: 120_000 });
  after(async () => {
    await dc2('down', '-v', '--remove-orphans').catch(() => undefined);
    // the first describe's cleanup ran before this one's tests: clean up again
    await fx.cleanup();
  });

  it('both resolve extends and anchors the same way, share db\'s network namespace, and link db', async () => {
    assert.equal((await dc2('config', '-q')).stdout, '');
    await dc2('up', '-d', '--no-build');
    fx.names.add(B2);
    const r = await fx.run(loadStackFile(file2, { name: B2 }), 'up');
    assert.ok(r.ok, JSON.stringify(r.containers));
    const composeOf = async (service: string) => {
      const list = await rawDocker().listContainers({ all: true, filters: JSON.stringify({ label: [`com.docker.compose.project=${C2}`, `com.docker.compose.service=${service}`] }) });
      return rawDocker().getContainer(list[0]!.Id).inspect();
    };
    const view = async (c: Docker.ContainerInspectInfo, db: Docker.ContainerInspectInfo, project: string) => ({
      cmd: c.Config.Cmd,
      env: c.Config.Env.filter((e) => /^(ROLE|X)=/.test(e)).sort(),
      stopSignal: (c.Config as { StopSignal?: string }).StopSignal,
      networkMode: c.HostConfig.NetworkMode === `container:${db.Id}` ? 'container:<db>' : c.HostConfig.NetworkMode?.replaceAll(project, 'P'),
      // compose 1.29 also adds links of its own (db_1, <project>_db_1): compare the file's
      links: Object.values(c.NetworkSettings.Networks).flatMap((n) => (n as { Links?: string[] | null }).Links ?? []).map((l) => l.replace(/^[^:]*:/, '<db>:')).filter((l) => l === '<db>:database'),
      running: c.State.Running,
    });
    const ourDb = await rawDocker().getContainer(`${B2}-db`).inspect();
    const theirDb = await composeOf('db');
    for (const s of ['side', 'link']) {
      const ours = await view(await rawDocker().getContainer(`${B2}-${s}`).inspect(), ourDb, B2);
      const theirs = await view(await composeOf(s), theirDb, C2);
      assert.deepEqual(ours, theirs, `service ${s}`);
    }
    const side = await view(await rawDocker().getContainer(`${B2}-side`).inspect(), ourDb, B2);
    assert.deepEqual(side.env, ['ROLE=db', 'X=1']);
    assert.equal(side.networkMode, 'container:<db>');
    assert.deepEqual((await view(await rawDocker().getContainer(`${B2}-link`).inspect(), ourDb, B2)).links, ['<db>:database']);
  });
});
