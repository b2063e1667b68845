/** The README's policy block names every policy field (a field added to the schema without its line fails here). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicySchema } from '../../../src/domain/policy/schema.js';
import { readme } from './readme.js';

test('every top-level policy field has a line in the README policy block', () => {
  const start = readme.indexOf('# policy.yaml');
  assert.ok(start >= 0, 'the README has the policy block');
  const block = readme.slice(start, readme.indexOf('```', start));
  const fields = Object.keys(PolicySchema.shape);
  assert.ok(fields.length > 10, 'the schema was read');
  assert.deepEqual(fields.filter((f) => !new RegExp(`^#?\\s*${f}:`, 'm').test(block)), []);
});
