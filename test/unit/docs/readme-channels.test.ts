/**
 * The README's channel table and the registry name the same channels: a channel added to the
 * code without its README row (or a row left behind for a channel that is gone) fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { channelSchemas } from '../../../src/app/schemas-cli.js';

function readmeChannels(): string[] {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### Channels'), readme.indexOf('### Replies'));
  const rows = section.split('\n').filter((l) => /^\| `/.test(l));
  return rows.flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
}

test('every registered channel has a README row and every row a registered channel', () => {
  const registered = Object.keys(channelSchemas()).sort();
  assert.deepEqual(readmeChannels().sort(), registered);
});

/** Fields every channel takes (named once, in "The message border"). */
const COMMON = ['request_id', 'response_channel'];

test("every top-level field of a channel's schema is named in its row (or the run fields, or the common ones)", () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### Channels'), readme.indexOf('### Replies'));
  const runFields = section.slice(section.indexOf('**Run fields**'), section.indexOf('Every run gets'));
  const border = section.slice(section.indexOf('**The message border.**'), section.indexOf('**Run fields**'));
  assert.ok(COMMON.every((f) => border.includes(`\`${f}\``)), 'the common fields are named in The message border');
  const rowOf = new Map<string, string>();
  for (const row of section.split('\n').filter((l) => /^\| `/.test(l))) {
    for (const m of (row.split('|')[1] ?? '').matchAll(/`([^`]+)`/g)) rowOf.set(m[1]!, row);
  }
  const missing: string[] = [];
  for (const [channel, schema] of Object.entries(channelSchemas())) {
    const cells = (rowOf.get(channel) ?? '').split(/(?<!\\)\|/);
    // The fields column; dispatch's fields are in its "does" column, case-insensitive, in seed 003's capitals.
    const text = channel === 'dispatch' ? (cells[2] ?? '').toLowerCase() : (cells[3] ?? '');
    const named = (f: string) => text.includes(`\`${f}\``) || text.includes(`\`${f}{`) || (text.includes('run fields') && runFields.includes(`\`${f}\``));
    for (const f of Object.keys((schema as { properties?: Record<string, unknown> }).properties ?? {})) {
      if (!COMMON.includes(f) && !named(f)) missing.push(`${channel}.${f}`);
    }
  }
  assert.deepEqual(missing, []);
});
