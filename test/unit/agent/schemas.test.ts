import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { channelSchemas } from '../../../src/app/schemas-cli.js';

it('the published JSON Schemas in schemas/ match the validators (run `bosun schemas` after changing one)', () => {
  for (const [channel, schema] of Object.entries(channelSchemas())) {
    const published = JSON.parse(readFileSync(`schemas/${channel}.schema.json`, 'utf8')) as unknown;
    assert.deepEqual(published, JSON.parse(JSON.stringify(schema)), channel);
  }
});
