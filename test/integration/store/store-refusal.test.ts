/**
 * A value the store refuses (a NUL in text: SQLSTATE 22021) is a store_error that is NOT
 * retryable, so the pipeline answers and parks the message once instead of handing it back for
 * ever as it does for an outage; a closed store (an outage) stays retryable. PGlite and PostgreSQL.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openDb } from '../../../src/adapters/store-sql/db.js';
import { isBosunError } from '../../../src/domain/errors.js';
import { PG_ADMIN as PG_URL } from '../workflow/stores.js';


for (const location of ['memory:', PG_URL]) {
  describe(`store errors (${location.startsWith('postgres') ? 'PostgreSQL' : 'PGlite'})`, () => {
    it('a NUL in a text parameter is a store_error that is not retryable; the store still answers after it', async () => {
      const db = await openDb(location);
      try {
        const err = await db.query('SELECT $1::text AS x', ['a\u0000b']).then(() => undefined, (e: unknown) => e);
        assert.ok(isBosunError(err), `expected a BosunError, got ${String(err)}`);
        assert.deepEqual([err.code, err.retryable], ['store_error', false], err.message);
        assert.deepEqual(await db.query('SELECT 1 AS one'), [{ one: 1 }]);
      } finally {
        await db.close();
      }
    });
  });
}
