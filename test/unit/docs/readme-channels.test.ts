/**
 * The README's channel table and the registry name the same channels: a channel added to the
 * code without its README row (or a row left behind for a channel that is gone) fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channelSchemas } from '../../../src/app/schemas-cli.js';
import { section, tableRows } from './readme.js';

const channels = section('### Channels');
/** Each channel the table names (a row may name two: `stop_container` / `restart_container`), with its row's cells. */
const rowOf = new Map(tableRows(channels).flatMap((cells) => [...(cells[1] ?? '').matchAll(/`([^`]+)`/g)].map((m) => [m[1]!, cells] as const)));

test('every registered channel has a README row and every row a registered channel', () => {
  const registered = Object.keys(channelSchemas()).sort();
  assert.deepEqual([...rowOf.keys()].sort(), registered);
});

/** Fields every channel takes (named once, in "The message border"). */
const COMMON = ['request_id', 'response_channel'];

test("every top-level field of a channel's schema is named in its row (or the run fields, or the common ones)", () => {
  const runFields = channels.slice(channels.indexOf('**Run fields**'), channels.indexOf('Every run gets'));
  const border = channels.slice(channels.indexOf('**The message border.**'), channels.indexOf('**Run fields**'));
  assert.ok(COMMON.every((f) => border.includes(`\`${f}\``)), 'the common fields are named in The message border');
  const missing: string[] = [];
  for (const [channel, schema] of Object.entries(channelSchemas())) {
    const cells = rowOf.get(channel) ?? [];
    // The fields column; dispatch's fields are in its "does" column, case-insensitive, in seed 003's capitals.
    const text = channel === 'dispatch' ? (cells[2] ?? '').toLowerCase() : (cells[3] ?? '');
    const named = (f: string) => text.includes(`\`${f}\``) || text.includes(`\`${f}{`) || (text.includes('run fields') && runFields.includes(`\`${f}\``));
    for (const f of Object.keys((schema as { properties?: Record<string, unknown> }).properties ?? {})) {
      if (!COMMON.includes(f) && !named(f)) missing.push(`${channel}.${f}`);
    }
  }
  assert.deepEqual(missing, []);
});
