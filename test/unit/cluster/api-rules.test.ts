/** The cluster API's rules apart from HTTP: error codes (never error text) and what a seed POST may change. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BosunError } from '../../../src/domain/errors.js';
import { toApiError } from '../../../src/cluster/server/api-errors.js';
import { seedAction, seedContainerFor } from '../../../src/cluster/server/api-rules.js';
import type { ServiceRecord } from '../../../src/ports/store.js';
import { silentLogger } from '../../../src/util/log.js';

test('fastify errors map by their code: a body that is not JSON is bad_json, other 4xx invalid_message, the rest internal', () => {
  assert.equal(toApiError({ statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY', message: 'Body is not valid JSON' }, silentLogger).code, 'bad_json');
  assert.equal(toApiError({ statusCode: 400, code: 'FST_ERR_CTP_EMPTY_JSON_BODY', message: 'Body cannot be empty' }, silentLogger).code, 'bad_json');
  // the text says JSON, the code does not: decided on the code
  assert.equal(toApiError({ statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', message: 'Unsupported Media Type: application/json5' }, silentLogger).code, 'invalid_message');
  assert.equal(toApiError(new Error('boom'), silentLogger).code, 'internal');
  const own = new BosunError('conflict', 'x');
  assert.equal(toApiError(own, silentLogger), own);
});

const record = (over: Partial<ServiceRecord> = {}): ServiceRecord => ({
  name: 'web', replicas: 2, container: { name: 'web', image: 'img:1' }, constraints: [], version: 1, deleted: false, createdAt: 0, updatedAt: 0, status: {}, ...over,
});

test('seed POST keeps an existing container and refuses another image or name, naming the field', () => {
  const asked = { name: 'web', image: 'img:1' };
  assert.deepEqual(seedContainerFor(undefined, 'web', asked, 'services.0.container'), asked);
  const old = record({ container: { name: 'web', image: 'img:1', env: ['A=1'] } });
  assert.deepEqual(seedContainerFor(old, 'web', asked, 'services.0.container'), old.container);
  assert.throws(() => seedContainerFor(old, 'web', { name: 'web', image: 'img:2' }, 'services.0.container'), { code: 'conflict', field: 'services.0.container.image' });
  assert.throws(() => seedContainerFor(old, 'web', { name: 'other', image: 'img:1' }, 'services.0.container'), { code: 'conflict', field: 'services.0.container.name' });
  assert.deepEqual(seedContainerFor(record({ deleted: true }), 'web', { name: 'x', image: 'img:9' }, 'f'), { name: 'x', image: 'img:9' });
  assert.equal(seedAction(undefined, true, 2), 'created');
  assert.equal(seedAction(record(), false, 2), 'unchanged');
  assert.equal(seedAction(record(), false, 3), 'scaled');
});
