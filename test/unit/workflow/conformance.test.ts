/**
 * The ASL conformance suite: every case in conformance/*.json is a definition + input +
 * expected output or error, with the expected values taken from the ASL specification or
 * the AWS documentation (each case's `source`). Every run is also replayed from its events
 * and must give the same execution row.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Definition } from '../../../src/workflow/definition.js';
import { validateDefinition } from '../../../src/workflow/definition.js';
import type { Json, JsonObject } from '../../../src/workflow/json.js';
import { HANG, delayed, replay, runWorkflow, TaskFailure, type FakeTask } from '../../../src/workflow/memory-runner.js';

interface Behaviour { return?: Json; echo?: boolean; fail?: { error: string; cause?: string }; hang?: boolean; sum?: string[]; delayMs?: number }
interface Expect {
  status: 'SUCCEEDED' | 'FAILED'; output?: Json; error?: string; cause?: string; calls?: number; taskParameters?: Json[];
  elapsedMs?: number; maxConcurrentTasks?: number; retryDelaysMs?: number[]; retryDelaysBelowMs?: number[]; cancelledTasks?: number; historyAtMost?: number; historyReaches?: boolean;
}
interface RunCase { name: string; source: string; skipValidation?: string; definition: Definition; input: Json; tasks?: Record<string, Behaviour[]>; limits?: Record<string, number>; expect: Expect }
interface ChoiceCase { name: string; source: string; rule: JsonObject; input: Json; matches?: boolean; error?: string }
interface IntrinsicCase { name: string; source: string; skipValidation?: string; expr: string; input: Json; result?: Json; error?: string }

const dir = join(fileURLToPath(new URL('.', import.meta.url)), 'conformance');
const START = Date.parse('2026-01-01T00:00:00Z');

/** Fake executors keyed by state name (or resource): the i-th call gets the i-th behaviour, the last one repeats. */
function fakes(spec: Record<string, Behaviour[]> = {}): Record<string, FakeTask> {
  const counts = new Map<string, number>();
  const run: FakeTask = (parameters, call) => {
    const key = spec[call.state] ? call.state : call.resource;
    const list = spec[key];
    if (!list?.length) return { exit_code: 0 };
    const i = counts.get(key) ?? 0;
    counts.set(key, i + 1);
    const b = list[Math.min(i, list.length - 1)]!;
    if (b.hang) return HANG;
    const result: Json | TaskFailure = b.fail ? new TaskFailure(b.fail.error, b.fail.cause ?? '')
      : b.echo ? parameters
      : b.sum ? b.sum.reduce((n, f) => n + Number((parameters as JsonObject)[f]), 0)
      : (b.return ?? null);
    return b.delayMs ? delayed(b.delayMs, result) : result instanceof TaskFailure ? (() => { throw result; })() : result;
  };
  return { 'bosun:run': run, 'bosun:stack': run, 'bosun:publish': run, 'bosun:publish.waitForTaskToken': run, 'bosun:service': run };
}

async function check(c: RunCase): Promise<void> {
  if (!c.skipValidation) assert.deepEqual(validateDefinition(c.definition), [], 'the case definition must be valid');
  const r = await runWorkflow(c.definition, c.input, { tasks: fakes(c.tasks), startTime: START, ...(c.limits ? { limits: c.limits } : {}) });
  const e = c.expect;
  const x = r.execution;
  assert.equal(x.status, e.status, `status (error ${x.error}: ${x.cause})`);
  if ('output' in e) assert.deepEqual(x.output, e.output);
  if (e.error !== undefined) assert.equal(x.error, e.error, `error (cause: ${x.cause})`);
  if (e.cause !== undefined) assert.equal(x.cause, e.cause);
  if (e.calls !== undefined) assert.equal(r.calls.length, e.calls, 'task calls');
  if (e.taskParameters) assert.deepEqual(r.calls.map((t) => t.parameters), e.taskParameters);
  if (e.elapsedMs !== undefined) assert.equal(r.endTime - START, e.elapsedMs, 'virtual time taken');
  if (e.maxConcurrentTasks !== undefined) assert.equal(r.maxConcurrentTasks, e.maxConcurrentTasks);
  const delays = r.history.filter((h) => h.type === 'RetryScheduled').map((h) => h.delayMs as number);
  if (e.retryDelaysMs) assert.deepEqual(delays, e.retryDelaysMs);
  if (e.retryDelaysBelowMs) {
    assert.equal(delays.length, e.retryDelaysBelowMs.length);
    delays.forEach((d, i) => assert.ok(d >= 0 && d < e.retryDelaysBelowMs![i]!, `delay ${d} within [0, ${e.retryDelaysBelowMs![i]})`));
    assert.notDeepEqual(delays, e.retryDelaysBelowMs);
  }
  if (e.cancelledTasks !== undefined) assert.equal(r.commands.filter((cmd) => cmd.type === 'CancelTask').length, e.cancelledTasks);
  if (e.historyAtMost !== undefined) {
    assert.ok(r.history.length <= e.historyAtMost, `history ${r.history.length} ≤ ${e.historyAtMost}`);
    if (e.historyReaches) assert.ok(r.history.length >= e.historyAtMost - 5, `history ${r.history.length} reached the limit`);
    assert.equal(r.history.at(-1)?.type, 'ExecutionFailed');
  }
  // Determinism: the same events from nothing give the same row.
  assert.deepEqual(await replay(r.events), x);
}

function choiceCase(c: ChoiceCase): RunCase {
  return {
    ...c,
    definition: { StartAt: 'C', States: { C: { Type: 'Choice', Choices: [{ ...c.rule, Next: 'Yes' }], Default: 'No' }, Yes: { Type: 'Pass', Result: true, End: true }, No: { Type: 'Pass', Result: false, End: true } } } as unknown as Definition,
    expect: c.error ? { status: 'FAILED', error: c.error } : { status: 'SUCCEEDED', output: c.matches! },
  };
}

function intrinsicCase(c: IntrinsicCase): RunCase {
  return {
    ...c,
    definition: { StartAt: 'P', States: { P: { Type: 'Pass', Parameters: { 'r.$': c.expr }, End: true } } } as unknown as Definition,
    expect: c.error ? { status: 'FAILED', error: c.error } : { status: 'SUCCEEDED', output: { r: c.result! } },
  };
}

for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  const raw = JSON.parse(readFileSync(join(dir, file), 'utf8')) as (RunCase | ChoiceCase | IntrinsicCase)[];
  describe(`conformance/${file}`, () => {
    for (const c of raw) {
      assert.ok(c.source, `${c.name}: every case cites its source`);
      const run = 'rule' in c ? choiceCase(c) : 'expr' in c ? intrinsicCase(c) : c;
      test(c.name, () => check(run));
    }
  });
}
