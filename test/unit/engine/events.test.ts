import { it } from 'node:test';
import assert from 'node:assert/strict';
import { parseEventLine } from '../../../src/adapters/engine-docker/events.js';
import { nanoToApiTime } from '../../../src/adapters/engine-docker/docker-engine.js';

it('keeps every digit of timeNano (beyond 2^53) and resumes one nanosecond later', () => {
  const ev = parseEventLine('{"Type":"container","Action":"die","Actor":{"ID":"abc","Attributes":{"name":"x"}},"time":1795427974,"timeNano":1795427974290123457}');
  assert.equal(ev?.timeNano, 1795427974290123457n);
  assert.equal(nanoToApiTime(1795427974290123457n), '1795427974.290123458');
});

it('tolerates events without status or Actor (seed 004 crashed on those) and junk lines', () => {
  assert.deepEqual(parseEventLine('{"status":"start","id":"abc","time":5}'), { type: 'container', action: 'start', id: 'abc', timeNano: 5_000_000_000n, attributes: {} });
  assert.equal(parseEventLine('not json'), undefined);
  assert.equal(parseEventLine('   '), undefined);
});
