/**
 * Shared integration-test helpers for the real Docker engine.
 * Everything a test creates carries LABEL.test=<run id> so cleanup touches only our own objects.
 */
import { randomBytes } from 'node:crypto';
import { createEngine } from '../../src/adapters/engine-factory.js';
import type { ContainerEngine } from '../../src/ports/engine.js';
import { LABEL } from '../../src/domain/labels.js';

/** Built by scripts/ensure-test-image.sh (FROM scratch + static busybox). */
export const TEST_IMAGE = process.env.BOSUN_TEST_IMAGE ?? 'bosun-busybox:latest';

export function testEngine(): ContainerEngine {
  return createEngine();
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** A label value unique to one test file's run; put `{[LABEL.test]: runId}` on everything. */
export function newRunId(): string {
  return `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

export async function removeTestContainers(engine: ContainerEngine, runId: string): Promise<void> {
  const list = await engine.containers.list({ all: true, labels: { [LABEL.test]: runId } });
  await Promise.all(list.map((c) => engine.containers.remove(c.id, { force: true, volumes: true })));
}

/**
 * scripts/test.sh runs each file in its own process under `--test-timeout`, a bound on the whole
 * file (BOSUN_TEST_FILE_TIMEOUT_MS): past it the runner kills the file without naming what it
 * waited for. A test's bounded wait is therefore cut to the file's time left, less a margin for
 * the after hooks, so a wait that would outlast the file fails first, with its name. Benches and
 * files run by hand have no such bound and keep their waits whole.
 */
const FILE_TIMEOUT_MS = Number(process.env.BOSUN_TEST_FILE_TIMEOUT_MS ?? Number.POSITIVE_INFINITY);
const FILE_MARGIN_MS = 15_000;

/** `ms`, or less: what is left of this test file's time before the runner kills it. */
export function fileBudget(ms: number): number {
  const left = performance.timeOrigin + FILE_TIMEOUT_MS - FILE_MARGIN_MS - Date.now();
  return Math.round(Math.max(Math.min(ms, left), 1_000));
}

/** Spawn options that SIGKILL a child still running after `ms` (or the file's time left). */
export function childBound(ms = 120_000): { timeout: number; killSignal: 'SIGKILL' } {
  return { timeout: fileBudget(ms), killSignal: 'SIGKILL' };
}

/** How long one check may run past the deadline before `eventually` gives up on it. */
const CHECK_GRACE_MS = 10_000;

/** `p`, or a rejection naming `what` once `ms` passed (the timer is cleared either way). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = fileBudget(ms);
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${bound} ms`)), bound);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * Runs `body`, then `cleanup`, as try/finally would, except that a cleanup failing after a
 * failed body does not hide the body's error (the test's own assertion): it is logged beside it.
 */
export async function withCleanup<T>(body: () => Promise<T>, cleanup: () => Promise<unknown>): Promise<T> {
  let failed = false;
  try {
    return await body();
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    try {
      await cleanup();
    } catch (e) {
      if (!failed) throw e;
      console.error(`cleanup failed too, after the test's own failure: ${(e as Error).message}`);
    }
  }
}

/**
 * Polls `check` until it returns a truthy value or `timeoutMs` passes (then throws with `what`).
 * A check that never answers (a request without a timeout, say) counts as failed once it ran
 * CHECK_GRACE_MS past the deadline, so the wait ends with `what` instead of hanging.
 */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false | null>, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + fileBudget(timeoutMs);
  let last: unknown;
  for (;;) {
    try {
      const v = await within(check(), Math.max(deadline - Date.now(), 0) + CHECK_GRACE_MS, `a check for ${what}`);
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A second before now, in Docker's event time (nanoseconds): where to start counting a test's events. */
export const eventsSince = (): bigint => BigInt(Date.now() - 1000) * 1_000_000n;

/** How many containers the engine created for a request since `sinceNano` (its own event record: runs remove their containers after the reply). */
export async function containersCreatedFor(engine: ContainerEngine, requestId: string, sinceNano: bigint): Promise<number> {
  const ctl = new AbortController();
  setTimeout(() => ctl.abort(), 700);
  let n = 0;
  try {
    for await (const ev of engine.events.stream({ sinceNano, resources: ['container'], labels: { [LABEL.request]: requestId }, signal: ctl.signal })) {
      if (ev.kind === 'created') n++;
    }
  } catch (e) {
    if (!ctl.signal.aborted) throw e;
  }
  return n;
}
