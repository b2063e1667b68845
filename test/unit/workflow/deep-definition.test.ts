/** Review #2: a 2.5 KB definition of nested Parallels held the event loop for minutes in validation (asl-validator's time grows exponentially with nesting). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BosunError } from '../../../src/domain/errors.js';
import { checkedDefinition } from '../../../src/actions/workflow/fields.js';
import { MAX_NESTING } from '../../../src/workflow/definition.js';

function nested(n: number): Record<string, unknown> {
  let inner: unknown = { Type: 'Pass', End: true };
  for (let i = 0; i < n; i++) inner = { Type: 'Parallel', Branches: [{ StartAt: `s${i}`, States: { [`s${i}`]: inner } }], End: true };
  return { StartAt: 'top', States: { top: inner } };
}

describe('review-2: definition nesting', () => {
  it(`nesting up to ${MAX_NESTING} is accepted (handled)`, () => {
    assert.doesNotThrow(() => checkedDefinition(nested(MAX_NESTING - 1)));
  });
  it('30 levels (2.4 KB; main: hours of one CPU, 22 levels took 22 s) are refused at once, naming the definition', () => {
    const def = nested(30);
    assert.ok(JSON.stringify(def).length < 3000);
    assert.throws(() => checkedDefinition(def), (e: unknown) => e instanceof BosunError && e.code === 'invalid_message' && e.field === 'definition' && /nest more than/.test(e.message));
  });
});
