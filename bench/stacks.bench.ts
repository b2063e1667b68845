/**
 * Stacks bench (issue 3), against docker-compose 1.29 on the same file in the same run:
 *  1. bring-up of a 20-service stack with dependency depth 4 (busybox `sleep` services):
 *     bosun (the library: loadStackFile + runStack 'up', the code path the CLI and the
 *     `stack` channel use, without process start-up) vs `docker-compose up -d` —
 *     median of BENCH_STACK_N (default 5) runs each, fully down between runs (not timed);
 *  2. a no-op `update` on the up-to-date stack: container changes (target 0) and time (< 1 s).
 * Run: node --import tsx bench/stacks.bench.ts   (needs Docker, docker-compose, the test image)
 */
import { rawDocker } from '../test/helpers/raw-docker.js';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LABEL } from '../src/domain/labels.js';
import { loadStackFile } from '../src/stacks/load.js';
import { resolveOptions } from '../src/stacks/options.js';
import { runStack } from '../src/stacks/run-stack.js';
import { TEST_IMAGE, newRunId, removeTestContainers, testEngine } from '../test/helpers/docker.js';

const run = promisify(execFile);
const engine = testEngine();
const runId = newRunId();
const N = Number(process.env.BENCH_STACK_N ?? 5);
const LEVELS = 5; // depth 4: level i depends on level i-1
const PER_LEVEL = 4;
const BOSUN = `${runId}b`;
const COMPOSE = `${runId}dc`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const ms = (x: number) => `${x.toFixed(0)} ms`;

function composeText(): string {
  const lines = ['version: "3.8"', 'services:'];
  for (let l = 0; l < LEVELS; l++) {
    for (let i = 0; i < PER_LEVEL; i++) {
      lines.push(`  s${l}x${i}:`, `    image: ${TEST_IMAGE}`, '    command: sleep 3600', '    stop_signal: SIGKILL', `    labels: {${LABEL.test}: ${runId}}`);
      if (l > 0) lines.push(`    depends_on: [s${l - 1}x${i}, s${l - 1}x${(i + 1) % PER_LEVEL}]`);
    }
  }
  return lines.join('\n') + '\n';
}

const dir = mkdtempSync(join(tmpdir(), 'bosun-stack-bench-'));
const file = join(dir, 'compose.yml');
writeFileSync(file, composeText());
const dc = (...args: string[]) => run('docker-compose', ['-f', file, '-p', COMPOSE, ...args], { cwd: dir, timeout: 300_000 });
const opts = resolveOptions(undefined);

async function bosunUp(): Promise<number> {
  const t0 = performance.now();
  const r = await runStack(engine, loadStackFile(file, { name: BOSUN }), 'up', opts);
  const t = performance.now() - t0;
  if (!r.ok || r.changed !== LEVELS * PER_LEVEL) throw new Error(`bosun up: ${JSON.stringify(r.containers.filter((c) => c.status !== 'done'))}`);
  return t;
}

async function bosunDown(): Promise<void> {
  const r = await runStack(engine, loadStackFile(file, { name: BOSUN }), 'down', opts);
  if (!r.ok) throw new Error('bosun down failed');
}

async function composeUp(): Promise<number> {
  const t0 = performance.now();
  await dc('up', '-d', '--no-build');
  const t = performance.now() - t0;
  const n = (await engine.containers.list({ labels: { 'com.docker.compose.project': COMPOSE } })).length;
  if (n !== LEVELS * PER_LEVEL) throw new Error(`docker-compose up: ${n} running`);
  return t;
}

/**
 * The engine's own floor: the same 20 containers (created beforehand, untimed) started all
 * at once through the API, ignoring dependencies — no orchestrator can bring the stack up
 * faster than this on this engine.
 */
async function engineFloor(): Promise<number> {
  const net = `${runId}floor`;
  await engine.networks.ensure({ name: net, labels: { [LABEL.test]: runId } });
  const ids: string[] = [];
  try {
    for (let i = 0; i < LEVELS * PER_LEVEL; i++) {
      ids.push((await engine.containers.create({ name: `${runId}-floor-${i}`, image: TEST_IMAGE, cmd: ['sleep', '3600'], stopSignal: 'SIGKILL', labels: { [LABEL.test]: runId }, networks: [{ name: net }] })).id);
    }
    const t0 = performance.now();
    await Promise.all(ids.map((id) => engine.containers.start(id)));
    return performance.now() - t0;
  } finally {
    await Promise.all(ids.map((id) => engine.containers.remove(id, { force: true })));
    await engine.networks.remove(net).catch(() => undefined);
  }
}

async function main(): Promise<void> {
  await engine.info();
  const bosun: number[] = [];
  const compose: number[] = [];
  const floor: number[] = [];
  try {
    await run('docker-compose', ['version', '--short']);
    for (let i = 0; i < N; i++) {
      // alternate which goes first so neither always runs on a warmer engine
      const order = i % 2 === 0 ? ['bosun', 'compose'] : ['compose', 'bosun'];
      floor.push(await engineFloor());
      for (const who of order) {
        if (who === 'bosun') {
          bosun.push(await bosunUp());
          if (i < N - 1) await bosunDown();
        } else {
          compose.push(await composeUp());
          await dc('down', '-v');
        }
      }
    }
    const b = median(bosun);
    const c = median(compose);
    console.log(`stack up, ${LEVELS * PER_LEVEL} services, depth ${LEVELS - 1}, median of ${N}:`);
    console.log(`  bosun (library, runStack 'up'): ${ms(b)}   runs: ${bosun.map(ms).join(', ')}`);
    console.log(`  docker-compose up -d:           ${ms(c)}   runs: ${compose.map(ms).join(', ')}`);
    const f = median(floor);
    console.log(`  engine floor (20 parallel starts, no dependencies): ${ms(f)}   runs: ${floor.map(ms).join(', ')}`);
    console.log(`  ratio bosun/compose: ${(b / c).toFixed(2)} (target <= 0.7) ${b / c <= 0.7 ? 'OK' : 'MISSED'}`);
    console.log(`  over the engine floor: bosun ${(b / f).toFixed(2)}x, docker-compose ${(c / f).toFixed(2)}x`);

    // the bosun stack from the last run is up: a no-op update
    const times: number[] = [];
    let changes = 0;
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      const r = await runStack(engine, loadStackFile(file, { name: BOSUN }), 'update', opts);
      times.push(performance.now() - t0);
      changes += r.changed;
      if (!r.ok) throw new Error('update failed');
    }
    console.log(`no-op update on the up-to-date stack (median of ${N}): ${ms(median(times))} (target < 1000 ms) ${median(times) < 1000 ? 'OK' : 'MISSED'}; container changes: ${changes} (target 0) ${changes === 0 ? 'OK' : 'MISSED'}   runs: ${times.map(ms).join(', ')}`);
  } finally {
    await dc('down', '-v', '--remove-orphans').catch(() => undefined);
    await removeTestContainers(engine, runId);
    for (const n of await rawDocker().listNetworks({ filters: JSON.stringify({ label: [`${LABEL.stack}=${BOSUN}`] }) })) await engine.networks.remove(n.Id).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
