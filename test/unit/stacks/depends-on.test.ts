/** depends_on verdicts on one inspection of the dependency (the executor polls them). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerDetails, ContainerState } from '../../../src/domain/engine/index.js';
import { dependencyVerdict } from '../../../src/stacks/depends-on.js';

const details = (state: Partial<ContainerState>, healthcheck = true): ContainerDetails => ({
  state: { status: 'running', running: true, exitCode: 0, restartCount: 0, ...state },
  ...(healthcheck ? { healthcheck: { test: ['CMD', 'true'] } } : {}),
}) as unknown as ContainerDetails;

test('service_healthy: met when healthy, waits while starting, fails when stopped or without a healthcheck', () => {
  assert.equal(dependencyVerdict('db', 'service_healthy', details({ health: 'healthy' })), 'met');
  assert.equal(dependencyVerdict('db', 'service_healthy', details({ health: 'starting' })), 'wait');
  assert.throws(() => dependencyVerdict('db', 'service_healthy', details({ running: false, status: 'exited', health: 'unhealthy' })), { code: 'engine_error', message: /stopped before it became healthy/ });
  assert.throws(() => dependencyVerdict('db', 'service_healthy', details({ health: 'none' }, false)), { code: 'engine_error', message: /has no healthcheck/ });
});

test('service_completed_successfully: waits while running or created, met on exit 0, fails on another code', () => {
  assert.equal(dependencyVerdict('job', 'service_completed_successfully', details({})), 'wait');
  assert.equal(dependencyVerdict('job', 'service_completed_successfully', details({ running: false, status: 'created' })), 'wait');
  assert.equal(dependencyVerdict('job', 'service_completed_successfully', details({ running: false, status: 'exited', exitCode: 0 })), 'met');
  assert.throws(() => dependencyVerdict('job', 'service_completed_successfully', details({ running: false, status: 'exited', exitCode: 3 })), { code: 'nonzero_exit', message: /exited with code 3/ });
});

test('service_started needs no inspection; a missing dependency is not_found', () => {
  assert.equal(dependencyVerdict('x', 'service_started', undefined), 'met');
  assert.throws(() => dependencyVerdict('x', 'service_healthy', undefined), { code: 'not_found' });
});
