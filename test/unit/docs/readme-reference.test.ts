/**
 * The README's reference sections and the code say the same: the generated blocks (commands'
 * flags, metrics) are current, and the hand-written tables name every agent flag, every
 * environment variable the code reads and every pool file field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { generatedBlocks, readBlock } from '../../../src/app/readme-blocks.js';
import { buildProgram } from '../../../src/app/program.js';
import { POOL_FILE_FIELDS } from '../../../src/warm/pool-file.js';

const root = new URL('../../../', import.meta.url).pathname;
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const section = (heading: string) => {
  const start = readme.indexOf(heading);
  assert.ok(start >= 0, `README has a "${heading}" section`);
  const next = readme.slice(start + heading.length).search(/\n#{2,3} /);
  return readme.slice(start, next < 0 ? undefined : start + heading.length + next);
};

test('the generated blocks are current (run `npm run docs` after changing a flag or a metric)', async () => {
  for (const [name, text] of Object.entries(await generatedBlocks())) assert.equal(readBlock(readme, name), text, `README block ${name}`);
});

test("every flag of bosun agent is in the agent's options table", () => {
  const agent = buildProgram().commands.find((c) => c.name() === 'agent')!;
  const table = section('### `bosun agent` options');
  const missing = agent.options.map((o) => o.long!).filter((flag) => !table.includes(`\`${flag}`) && !table.includes(`, \`${flag}`));
  assert.deepEqual(missing, []);
});

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('every environment variable the code reads is in the README table', () => {
  const read = new Set(sources(join(root, 'src')).flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/process\.env\.([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]!)));
  assert.ok(read.size >= 10, 'the scan found the variables');
  const table = section('## Environment variables');
  assert.deepEqual([...read].filter((v) => !table.includes(`\`${v}\``)).sort(), []);
});

test('every pool file field is in the warm pools table', () => {
  const table = section('## Warm runs');
  const missing = [...POOL_FILE_FIELDS.pool.filter((f) => f !== 'match').map((f) => `\`${f}\``), ...POOL_FILE_FIELDS.match.map((f) => `\`match.${f}\``)].filter((f) => !table.includes(`| ${f}`) && !table.includes(`, ${f}`));
  assert.deepEqual(missing, []);
});
