/** When bosun:service's `wait` is satisfied: as many live replicas as asked, all running the current spec version. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServiceAssignmentView, ServiceView } from '../../../src/cluster/api-client.js';
import { converged } from '../../../src/workflow/durable/service-task.js';

const a = (slot: number, state: string, specVersion = 2, desired = 'run'): ServiceAssignmentView => ({ name: `s.c.${slot}.g1`, slot, generation: 1, node: 'n1', desired, state, specVersion });
const view = (replicas: number, assignments: ServiceAssignmentView[]): ServiceView => ({ name: 's', replicas, version: 2, deleted: false, container: { name: 'c', image: 'i' }, constraints: [], assignments });

test('converged: all live replicas running the current version, as many as asked', () => {
  assert.equal(converged(view(2, [a(0, 'running'), a(1, 'running')])), true);
  assert.equal(converged(view(0, [])), true);
  assert.equal(converged(view(2, [a(0, 'running'), a(1, 'pending')])), false, 'one still starting');
  assert.equal(converged(view(2, [a(0, 'running'), a(1, 'running', 1)])), false, 'one on the old spec');
  assert.equal(converged(view(1, [a(0, 'running'), a(1, 'running')])), false, 'scaling down: one too many');
  assert.equal(converged(view(1, [a(0, 'running'), a(1, 'stopping', 2, 'stop'), a(2, 'failed', 2, 'stop')])), true, 'stopping and failed history do not count');
  assert.equal(converged(view(3, [a(0, 'running')])), false, 'not placed yet');
});
