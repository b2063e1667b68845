import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withCleanup } from '../../helpers/docker.js';

test('withCleanup: the body passing, the cleanup runs and its failure fails the test', async () => {
  let cleaned = 0;
  assert.equal(await withCleanup(async () => 7, async () => void cleaned++), 7);
  assert.equal(cleaned, 1);
  await assert.rejects(withCleanup(async () => 7, async () => Promise.reject(new Error('stop timed out'))), /stop timed out/);
});

test("withCleanup: the body failing, its error is the one thrown although the cleanup fails too", async () => {
  let cleaned = 0;
  await assert.rejects(
    withCleanup(
      async () => assert.equal(1, 2, 'the assertion'),
      async () => {
        cleaned++;
        throw new Error('stop timed out');
      },
    ),
    /the assertion/,
  );
  assert.equal(cleaned, 1);
});
