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
import { COLD_REASONS } from '../../../src/warm/plan.js';
import { readme, section, tableRows } from './readme.js';

const root = new URL('../../../', import.meta.url).pathname;

test('the generated blocks are current (run `npm run docs` after changing a flag or a metric)', async () => {
  for (const [name, text] of Object.entries(await generatedBlocks())) assert.equal(readBlock(readme, name), text, `README block ${name}`);
});

const firstColumn = (text: string) => tableRows(text).map((cells) => cells[1] ?? '');

test("the agent's options table names exactly bosun agent's flags", () => {
  const agent = buildProgram().commands.find((c) => c.name() === 'agent')!;
  const flags = agent.options.map((o) => o.long!).sort();
  const named = [...new Set(firstColumn(section('### `bosun agent` options')).flatMap((c) => [...c.matchAll(/`(--[a-z0-9-]+)[ `]/g)].map((m) => m[1]!)))].sort();
  assert.ok(flags.length > 10, 'the command tree was read');
  assert.deepEqual(named, flags);
});

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Read by the libraries bosun calls rather than as process.env.X in src/: HOME through os.homedir(). */
const READ_INDIRECTLY = ['HOME'];

test('the environment variables table names exactly the variables the code reads', () => {
  const read = new Set(sources(join(root, 'src')).flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/process\.env\.([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]!)));
  assert.ok(read.size >= 10, 'the scan found the variables');
  const named = new Set(firstColumn(section('## Environment variables')).flatMap((c) => [...c.matchAll(/`([A-Z_][A-Z0-9_]*)`/g)].map((m) => m[1]!)));
  assert.deepEqual([...read].filter((v) => !named.has(v)).sort(), [], 'read by the code, missing from the table');
  assert.deepEqual([...named].filter((v) => !read.has(v) && !READ_INDIRECTLY.includes(v)).sort(), [], 'in the table, read nowhere');
});

test('every pool file field is in the warm pools table', () => {
  const table = section('## Warm runs');
  const missing = [...POOL_FILE_FIELDS.pool.filter((f) => f !== 'match').map((f) => `\`${f}\``), ...POOL_FILE_FIELDS.match.map((f) => `\`match.${f}\``)].filter((f) => !table.includes(`| ${f}`) && !table.includes(`, ${f}`));
  assert.deepEqual(missing, []);
});

test('every reason a warm-eligible run goes cold is named in the Warm runs section', () => {
  const warm = section('## Warm runs');
  assert.deepEqual(COLD_REASONS.filter((r) => !warm.includes(`\`${r}\``)), []);
});
