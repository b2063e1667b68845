/**
 * Crash test: `bosun workflow run` (the executor on its embedded PGlite store) is SIGKILLed at
 * seeded random points of a 5-task workflow with a Wait, then started again with the same
 * state dir and execution name until it finishes. Every task container must have been
 * created exactly once and the final output must be right, in every one of 20 runs.
 * The runs are split over two files (crash-1/crash-2.test.ts), each under the runner's per-file
 * timeout: one run takes 10–20 s (each restart of the CLI opens its store again).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LABEL } from '../../../src/domain/labels.js';
import { newRunId, removeTestContainers, TEST_IMAGE, testEngine, fileBudget } from '../../helpers/docker.js';

const SEED = Number(process.env.BOSUN_CRASH_SEED ?? 20261202);

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const task = (next: string | null) => ({
  Type: 'Task', Resource: 'bosun:run',
  Parameters: { image: TEST_IMAGE, pull: 'never', command: ['sh', '-c', 'n=$(echo "$BOSUN_INPUT" | tr -dc 0-9); sleep 0.3; echo "{\\"n\\": $((n+1))}"'] },
  OutputPath: '$.json', ...(next ? { Next: next } : { End: true }),
});
const definition = {
  StartAt: 'T1',
  States: { T1: task('T2'), T2: task('Pause'), Pause: { Type: 'Wait', Seconds: 1, Next: 'T3' }, T3: task('T4'), T4: task('T5'), T5: task(null) },
};
/** Progress lines the CLI prints for this workflow (StateEntered ×6, TaskScheduled ×5, TaskSucceeded ×5). */
const PROGRESS_LINES = 16;

interface Attempt { code: number | null; signal: NodeJS.Signals | null; stdout: string; lines: number }

const HANG_MS = 120_000;

/** Runs the CLI; kills it with SIGKILL `delayMs` after its `killAfter`-th progress line (never when undefined). */
function runCli(args: string[], killAfter?: number, delayMs = 0): Promise<Attempt> {
  const hangMs = fileBudget(HANG_MS);
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'src/app/cli.ts', 'workflow', 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let lines = 0;
    let buffer = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => {
      buffer += d.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const l of parts) {
        if (!l.startsWith('[workflow] ')) continue;
        lines++;
        if (killAfter !== undefined && lines === killAfter) setTimeout(() => p.kill('SIGKILL'), delayMs);
      }
    });
    // A run that stalls (before any kill point, or the last clean run) fails the test instead of hanging it.
    const hang = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`workflow run did not end within ${hangMs} ms (${lines} progress lines): ${stdout}`));
    }, hangMs);
    p.on('error', reject);
    p.on('exit', (code, signal) => {
      clearTimeout(hang);
      resolve({ code, signal, stdout, lines });
    });
  });
}

/** Runs `first`..`last` of the crash test, seeded by SEED + first (so the two halves kill at different points). */
export function crashSuite(first: number, last: number): void {
  const RUNS = last - first + 1;
  describe(`workflow crash test: SIGKILL at seeded points (runs ${first}-${last}, seed ${SEED + first})`, () => {
    const engine = testEngine();
    const runId = newRunId();
    const dir = mkdtempSync(join(tmpdir(), 'bosun-wf-crash-'));
    const file = join(dir, 'five.json');
    writeFileSync(file, JSON.stringify(definition));
    const rand = mulberry32(SEED + first);
    let killedMidRun = 0;
    after(async () => {
      await removeTestContainers(engine, runId);
      rmSync(dir, { recursive: true, force: true });
      // Most kills must land before the end (a kill point after the last line may come too late), or the test would not be testing resumption.
      assert.ok(killedMidRun >= Math.ceil(RUNS * 0.75), `only ${killedMidRun} SIGKILLs landed while an execution was running`);
    });

    for (let run = first; run <= last; run++) {
      test(`run ${run}`, async () => {
        const name = `crash-${runId}-${run}`;
        const args = [file, '--state-dir', join(dir, `state-${run}`), '--execution-name', name, '--task-label', `${LABEL.test}=${runId}`, '--keep-containers', '--input', '{"n": 10}'];
        const kills = 1 + Math.floor(rand() * 3);
        let last: Attempt | undefined;
        for (let k = 0; k < kills; k++) {
          const at = 1 + Math.floor(rand() * PROGRESS_LINES);
          last = await runCli(args, at, Math.floor(rand() * 400));
          if (last.signal === 'SIGKILL') killedMidRun += k === 0 ? 1 : 0;
          else break; // it finished before the kill point came
        }
        if (last?.signal === 'SIGKILL') last = await runCli(args);
        assert.equal(last!.code, 0, `exit ${last!.code}: ${last!.stdout}`);
        assert.deepEqual(JSON.parse(last!.stdout), { n: 15 });
        const made = await engine.containers.list({ all: true, labels: { [LABEL.wfExecution]: name } });
        const perState = new Map<string, number>();
        for (const c of made) perState.set(c.labels[LABEL.wfState] ?? '?', (perState.get(c.labels[LABEL.wfState] ?? '?') ?? 0) + 1);
        assert.deepEqual(Object.fromEntries([...perState].sort()), { T1: 1, T2: 1, T3: 1, T4: 1, T5: 1 }, 'each task container created exactly once');
      });
    }
  });
}
