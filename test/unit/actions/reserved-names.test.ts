import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRunSchema, RESERVED_NAME_PREFIXES } from '../../../src/actions/schemas/run.js';

describe('container names bosun keeps for its own containers', () => {
  test('a run may not name its container with a reserved prefix (the error names the field); other names pass', () => {
    for (const prefix of RESERVED_NAME_PREFIXES) {
      const r = createRunSchema.safeParse({ image: 'busybox', name: `${prefix}0123456789abcdef0123` });
      assert.equal(r.success, false, prefix);
      assert.deepEqual(r.error?.issues.map((i) => i.path.join('.')), ['name']);
      assert.match(r.error?.issues[0]?.message ?? '', /not starting with bosun-wf-/);
    }
    assert.equal(createRunSchema.safeParse({ image: 'busybox', name: 'bosun-site-1' }).success, true);
    assert.equal(createRunSchema.safeParse({ image: 'busybox', name: 'nginx-site-1' }).success, true);
  });
});
