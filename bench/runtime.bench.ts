/**
 * OCI runtime bench (issue 11): a cold run with crun against the same run with runc, on one
 * engine of its own that has both registered (scripts/ensure-crun-engine.sh; the shared engine's
 * configuration is not touched), measured alternately in the same run:
 *  1. direct Engine API create/start/wait/logs/remove, runtime crun ÷ runc;
 *  2. through the agent (`"runtime": "crun"` on the run) ÷ the same run without it (runc).
 * Skips cleanly (exit 0, saying why) when that engine cannot be started. The engine is stopped
 * by its PID at the end when this bench started it.
 * Run: node --import tsx bench/runtime.bench.ts   (root, Docker, RabbitMQ, the test image)
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createEngine } from '../src/adapters/engine-factory.js';
import { LABEL } from '../src/domain/labels.js';
import { TEST_IMAGE, newRunId, removeTestContainers } from '../test/helpers/docker.js';
import { AMQP_URL, TestClient, startTestAgent } from '../test/helpers/agent.js';
import { RpcClient } from './rpc.js';

const run = promisify(execFile);
const script = join(import.meta.dirname, '..', 'scripts', 'ensure-crun-engine.sh');
const N = Number(process.env.BENCH_LATENCY_N ?? 20);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)] as number;

async function engineUp(host: string): Promise<boolean> {
  return run('docker', ['-H', host, 'info']).then(() => true, () => false);
}

async function main(): Promise<void> {
  const host = `unix://${process.env.BOSUN_CRUN_ROOT ?? '/var/lib/bosun-crun-engine'}/docker.sock`;
  const wasUp = await engineUp(host);
  try {
    await run('bash', [script, 'start'], { timeout: 180_000 });
  } catch (e) {
    console.log(`runtime bench skipped: the crun engine could not be started (${(e as { stderr?: string }).stderr?.trim() || (e as Error).message})`);
    return;
  }
  const engine = createEngine({ host });
  const runId = newRunId();
  const labels = { [LABEL.test]: runId };
  const agent = await startTestAgent({ dockerHost: host });
  const client = await TestClient.connect(AMQP_URL);
  const rpc = await RpcClient.open(client);
  const sink = await client.collect(`rt-${runId}-sink`);
  try {
    const direct = async (runtime: string | undefined): Promise<number> => {
      const t = performance.now();
      const { id } = await engine.containers.create({ image: TEST_IMAGE, cmd: ['echo', 'hi'], labels, ...(runtime ? { runtime } : {}) });
      await engine.containers.start(id);
      await engine.containers.wait(id);
      const out = await engine.containers.logs(id, { tty: false });
      if (out.stdout !== 'hi\n') throw new Error(`direct run output (${runtime ?? 'runc'}): ${JSON.stringify(out)}`);
      await engine.containers.remove(id, { force: true });
      return performance.now() - t;
    };
    const viaAgent = async (runtime: string | undefined): Promise<number> => {
      const t = performance.now();
      const r = await rpc.request('start_container.response_channel', { image: TEST_IMAGE, command: ['echo', 'hi'], labels, response_channel: `rt-${runId}-sink`, ...(runtime ? { runtime } : {}) }, { timeoutMs: 120_000 });
      if (r.ok !== true || r.stdout !== 'hi\n') throw new Error(`agent run failed (${runtime ?? 'runc'}): ${JSON.stringify(r)}`);
      return performance.now() - t;
    };
    for (let i = 0; i < 3; i++) for (const rt of [undefined, 'crun']) await direct(rt), await viaAgent(rt);
    const ms: Record<string, number[]> = { runc: [], crun: [], agentRunc: [], agentCrun: [] };
    for (let i = 0; i < N; i++) {
      // Alternated, so a change of the machine's load falls on both alike.
      ms.runc!.push(await direct(undefined));
      ms.crun!.push(await direct('crun'));
      ms.agentRunc!.push(await viaAgent(undefined));
      ms.agentCrun!.push(await viaAgent('crun'));
    }
    const f = (xs: number[]) => `${median(xs).toFixed(0)} ms (p90 ${p90(xs).toFixed(0)})`;
    console.log(`cold run, n=${N}, own engine (runc and crun registered): direct API runc ${f(ms.runc!)}, crun ${f(ms.crun!)}; agent runc ${f(ms.agentRunc!)}, crun ${f(ms.agentCrun!)}`);
    console.log(`crun / runc, direct API: ${(median(ms.crun!) / median(ms.runc!)).toFixed(2)}`);
    console.log(`crun / runc, through the agent: ${(median(ms.agentCrun!) / median(ms.agentRunc!)).toFixed(2)}`);
  } finally {
    await rpc.close();
    await sink.stop();
    await client.close();
    await agent.stop();
    await removeTestContainers(engine, runId);
    if (!wasUp) await run('bash', [script, 'stop']);
  }
}

await main();
