import { it } from 'node:test';
import assert from 'node:assert/strict';
import { parseEventLine } from '../../../src/adapters/engine-docker/events.js';
import { nanoToApiTime } from '../../../src/adapters/engine-docker/events.js';

it('keeps every digit of timeNano (beyond 2^53) and resumes one nanosecond later', () => {
  const ev = parseEventLine('{"Type":"container","Action":"die","Actor":{"ID":"abc","Attributes":{"name":"x"}},"time":1795427974,"timeNano":1795427974290123457}');
  assert.equal(ev?.timeNano, 1795427974290123457n);
  assert.equal(nanoToApiTime(1795427974290123457n), '1795427974.290123458');
});

it('tolerates events without status or Actor (seed 004 crashed on those) and junk lines', () => {
  assert.deepEqual(parseEventLine('{"status":"start","id":"abc","time":5}'), { resource: 'container', kind: 'started', id: 'abc', timeNano: 5_000_000_000n, attributes: {} });
  assert.equal(parseEventLine('not json'), undefined);
  assert.equal(parseEventLine('   '), undefined);
});

it('maps Docker\'s event names to bosun\'s kinds, with exit code, health and the joining container', () => {
  const line = (type: string, action: string, attrs: Record<string, string>) => JSON.stringify({ Type: type, Action: action, Actor: { ID: 'id1', Attributes: attrs }, time: 1 });
  const died = parseEventLine(line('container', 'die', { name: 'web', exitCode: '137' }));
  assert.equal(died?.kind, 'died');
  assert.equal(died?.exitCode, 137);
  assert.equal(died?.name, 'web');
  const health = parseEventLine(line('container', 'health_status: unhealthy', {}));
  assert.equal(health?.kind, 'health');
  assert.equal(health?.health, 'unhealthy');
  const joined = parseEventLine(line('network', 'connect', { container: 'c1', name: 'front' }));
  assert.deepEqual([joined?.resource, joined?.kind, joined?.containerId], ['network', 'connected', 'c1']);
  const other = parseEventLine(line('container', 'exec_start: sh -c true', {}));
  assert.deepEqual([other?.kind, other?.engineAction], ['other', 'exec_start']);
  for (const [docker, kind] of [['create', 'created'], ['start', 'started'], ['stop', 'stopped'], ['kill', 'killed'], ['destroy', 'destroyed'], ['pause', 'paused'], ['unpause', 'unpaused'], ['restart', 'restarted'], ['rename', 'renamed'], ['oom', 'oom'], ['disconnect', 'disconnected']] as const) {
    assert.equal(parseEventLine(line('container', docker, {}))?.kind, kind, docker);
  }
});
