/**
 * The pure policy check (domain's enforcePolicy) skips what only the disk can say about bind
 * sources; every module that creates containers on its own host must call enforcePolicyOnHost.
 * Only the cluster server (no view of a node's disk) may call the pure one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const SRC = new URL('../../../src', import.meta.url).pathname;
const PURE_ALLOWED = new Set(['domain/policy.ts', 'host/policy.ts', 'cluster/server/api.ts']);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

test('only the cluster server calls the pure policy check; host code calls enforcePolicyOnHost', () => {
  const offenders = files(SRC)
    .map((f) => relative(SRC, f))
    .filter((f) => !PURE_ALLOWED.has(f) && /\benforcePolicy\(/.test(readFileSync(join(SRC, f), 'utf8')));
  assert.deepEqual(offenders, []);
  assert.match(readFileSync(join(SRC, 'actions/run-container.ts'), 'utf8'), /enforcePolicyOnHost\(/, 'the scan sees the run path');
});
