import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RESOURCES_LABEL, containerSpecFor, replicaContainerName } from '../../../src/cluster/node/spec.js';
import { LABEL } from '../../../src/domain/labels.js';

const order = (over: Record<string, unknown> = {}) => ({
  type: 'run' as const, service: 's'.repeat(60), slot: 0, generation: 1, specVersion: 1,
  container: { name: 'c'.repeat(58), image: 'img:1', labels: { [RESOURCES_LABEL]: '{"cpu":0,"memMb":0,"diskMb":0}', [LABEL.service]: 'spoofed', 'bosun.test': 'run1', app: 'x' } },
  ...over,
});

test('replica names keep slot and generation however long the names are', () => {
  const names = new Set([replicaContainerName(order()), replicaContainerName(order({ slot: 1 })), replicaContainerName(order({ generation: 2 }))]);
  assert.equal(names.size, 3);
});

test('a template cannot set the resources label or the identity labels; other labels pass', () => {
  const spec = containerSpecFor(order(), 'n1');
  assert.equal(spec.labels![RESOURCES_LABEL], undefined);
  assert.equal(spec.labels![LABEL.service], 's'.repeat(60));
  assert.equal(spec.labels!['bosun.test'], 'run1');
  assert.equal(spec.labels!.app, 'x');
});

test('a listed exited container reports its exit code (a heartbeat can beat the die event)', async () => {
  const { summaryFromApi } = await import('../../../src/adapters/engine-docker/mapping.js');
  const { reportOf } = await import('../../../src/cluster/node/spec.js');
  const listed = summaryFromApi({
    Id: 'abc', Names: ['/x'], Image: 'img', ImageID: 'sha256:1', Command: 'sh', Created: 1, Ports: [], State: 'exited', Status: 'Exited (3) 2 seconds ago',
    Labels: containerSpecFor(order(), 'n1').labels!, HostConfig: { NetworkMode: 'default' }, NetworkSettings: { Networks: {} }, Mounts: [],
  } as never);
  assert.equal(listed.exitCode, 3);
  assert.deepEqual(reportOf(listed), { service: 's'.repeat(60), slot: 0, generation: 1, status: 'exited', exitCode: 3 });
});
