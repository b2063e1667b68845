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
