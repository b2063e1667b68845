import { test } from 'node:test';
import assert from 'node:assert/strict';
import { observe } from '../../../src/planner/cluster/observe.js';
import { NOW, replica } from './fixtures.js';

test('a returning node reporting a stale generation gets it fenced', () => {
  const rs = [replica('web', 0, 'n1', { desired: 'stop', state: 'lost' }), replica('web', 0, 'n2', { generation: 2 })];
  const o = observe('n1', [{ service: 'web', slot: 0, generation: 1, status: 'running' }], rs, true);
  assert.equal(o.fence.length, 1);
  assert.equal(o.fence[0]?.generation, 1);
  assert.equal(o.updates.length, 0);
});

test('running and exited containers update their assignment; a vanished one fails', () => {
  const rs = [replica('web', 0, 'n1', { state: 'pending' }), replica('web', 1, 'n1'), replica('web', 2, 'n1')];
  const o = observe('n1', [
    { service: 'web', slot: 0, generation: 1, status: 'running' },
    { service: 'web', slot: 1, generation: 1, status: 'exited', exitCode: 3 },
  ], rs, true);
  assert.deepEqual(o.updates.map((u) => [u.slot, u.state]), [[0, 'running'], [1, 'failed'], [2, 'failed']]);
  assert.match(o.updates[1]?.reason ?? '', /code 3/);
  assert.match(o.updates[2]?.reason ?? '', /disappeared/);
});

test('unknown containers are fenced; an event report does not fail absent ones', () => {
  const rs = [replica('web', 0, 'n1')];
  const o = observe('n1', [{ service: 'ghost', slot: 0, generation: 9, status: 'running' }], rs, false);
  assert.equal(o.fence.length, 1);
  assert.equal(o.updates.length, 0);
});

test('a heartbeat listing taken just before a replica started does not fail it (absence grace)', () => {
  const just = replica('web', 0, 'n1', { state: 'running', updatedAt: NOW - 1_000 });
  const old = replica('web', 1, 'n1', { state: 'running', updatedAt: NOW - 10_000 });
  const obs = observe('n1', [], [just, old], true, { now: NOW, absenceGraceMs: 5_000 });
  assert.deepEqual(obs.updates.map((u) => [u.slot, u.state]), [[1, 'failed']]);
});
