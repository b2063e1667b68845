/** Loading and validating definitions, and `bosun workflow validate`. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isBosunError } from '../../../src/domain/errors.js';
import { MAX_DEFINITION_BYTES, parseDefinition, validateDefinition } from '../../../src/workflow/definition.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'bosun-wf-def-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ok = { StartAt: 'A', States: { A: { Type: 'Task', Resource: 'bosun:run', End: true } } };
const at = (def: unknown) => validateDefinition(def).map((p) => `${p.state}|${p.field}`);

describe('workflow definitions', () => {
  test('a valid definition has no problems; every bosun resource is known', () => {
    for (const r of ['bosun:run', 'bosun:stack', 'bosun:publish', 'bosun:publish.waitForTaskToken', 'bosun:service']) {
      assert.deepEqual(validateDefinition({ ...ok, States: { A: { ...ok.States.A, Resource: r } } }), [], r);
    }
  });

  test('an unknown resource, or .waitForTaskToken on anything but publish, names the state and Resource', () => {
    assert.deepEqual(at({ ...ok, States: { A: { ...ok.States.A, Resource: 'arn:aws:lambda:us-east-1:1:function:f' } } }), ['A|Resource']);
    assert.deepEqual(at({ ...ok, States: { A: { ...ok.States.A, Resource: 'bosun:run.waitForTaskToken' } } }), ['A|Resource']);
  });

  test('a Next to a missing state names the state and field, also inside a branch', () => {
    assert.ok(at({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'Nope' }, B: { Type: 'Succeed' } } }).includes('A|Next'));
    const branch = { StartAt: 'P', States: { P: { Type: 'Parallel', End: true, Branches: [{ StartAt: 'B', States: { B: { Type: 'Pass', Next: 'P' } } }] } } };
    assert.ok(at(branch).includes('B|Next'), JSON.stringify(validateDefinition(branch)));
    assert.ok(at({ StartAt: 'Z', States: { A: { Type: 'Succeed' } } }).includes('|StartAt'));
  });

  test('States.ALL must be alone and in the last Retrier / Catcher', () => {
    const retry = [{ ErrorEquals: ['States.ALL'] }, { ErrorEquals: ['E'] }];
    assert.ok(at({ ...ok, States: { A: { ...ok.States.A, Retry: retry } } }).includes('A|Retry[0].ErrorEquals'));
    const c = { StartAt: 'A', States: { A: { ...ok.States.A, Catch: [{ ErrorEquals: ['States.ALL', 'E'], Next: 'B' }] }, B: { Type: 'Succeed' } } };
    assert.ok(at(c).includes('A|Catch[0].ErrorEquals'));
  });

  test('asl-validator problems are located: a bad path names its state and field', () => {
    assert.deepEqual(at({ StartAt: 'A', States: { A: { Type: 'Pass', OutputPath: 'not a path', End: true } } }), ['A|OutputPath']);
    assert.deepEqual(at({ StartAt: 'A', States: { A: { Type: 'Wait', End: true } } }).length, 1);
  });

  test('JSONata: a syntax error is reported; JSONPath fields are refused in a JSONata state', () => {
    assert.ok(at({ QueryLanguage: 'JSONata', StartAt: 'A', States: { A: { Type: 'Pass', Output: '{% 1 + %}', End: true } } }).includes('A|Output'));
    const nested = validateDefinition({ QueryLanguage: 'JSONata', StartAt: 'A', States: { A: { Type: 'Pass', Output: { list: ['{% $x( %}'] }, End: true } } });
    assert.ok(nested.some((p) => p.state === 'A' && p.field === 'Output.list[0]' && /JSONata syntax error at character \d+/.test(p.message)), JSON.stringify(nested));
    assert.ok(at({ QueryLanguage: 'JSONata', StartAt: 'A', States: { A: { Type: 'Pass', InputPath: '$.a', End: true } } }).some((p) => p.startsWith('A|')));
  });

  test('JSON, JSON5 and YAML load; a bad file is a BosunError naming the first problem', () => {
    const json5 = `{ StartAt: 'A', States: { A: { Type: 'Succeed', }, }, // comment\n}`;
    const yaml = 'StartAt: A\nStates:\n  A:\n    Type: Succeed\n';
    assert.equal(parseDefinition(JSON.stringify(ok)).StartAt, 'A');
    assert.equal(parseDefinition(json5, 'wf.json5').StartAt, 'A');
    assert.equal(parseDefinition(yaml, 'wf.yaml').StartAt, 'A');
    assert.throws(() => parseDefinition(JSON.stringify({ ...ok, States: { A: { ...ok.States.A, Resource: 'x' } } })), (e: unknown) => isBosunError(e) && e.code === 'invalid_message' && e.field === 'States.A.Resource');
    assert.throws(() => parseDefinition('{ not: json: at all', 'x.json'), (e: unknown) => isBosunError(e) && e.code === 'bad_json');
  });

  test('a definition over 1 MB is refused before parsing', () => {
    const big = JSON.stringify({ ...ok, Comment: 'x'.repeat(MAX_DEFINITION_BYTES) });
    assert.throws(() => parseDefinition(big), (e: unknown) => isBosunError(e) && /1 MB/.test(e.message));
    assert.match(validateDefinition({ ...ok, Comment: 'x'.repeat(MAX_DEFINITION_BYTES) })[0]!.message, /1 MB/);
  });
});

describe('bosun workflow validate', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'src/app/cli.ts'), 'workflow', 'validate', ...args], { encoding: 'utf8', cwd: repo, timeout: 120_000 });

  test('exit 0 for valid files (the examples, JSON and YAML)', () => {
    const r = cli('examples/workflows/build-and-test.yaml', 'examples/workflows/approval.yaml');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /build-and-test\.yaml: valid/);
  });

  test('exit 1 with every problem naming the state and field', () => {
    const f = join(dir, 'bad.yaml');
    writeFileSync(f, 'StartAt: Run\nStates:\n  Run:\n    Type: Task\n    Resource: docker:run\n    Next: Missing\n');
    const r = cli(f);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /state "Run", field Resource: unknown resource "docker:run"/);
    assert.match(r.stderr, /state "Run", field Next: "Missing" is not a state/);
    const j = cli('--json', f);
    assert.equal(j.status, 1);
    const out = JSON.parse(j.stdout) as { valid: boolean; problems: { state: string; field: string }[] }[];
    assert.deepEqual(out[0]!.problems.filter((p) => p.state).map((p) => `${p.state}.${p.field}`).sort(), ['Run.Next', 'Run.Resource']);
  });

  test('exit 2 for a file that cannot be read', () => {
    const r = cli(join(dir, 'missing.json'));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /missing\.json/);
  });
});
