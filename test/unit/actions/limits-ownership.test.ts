/** Pure policy pieces of findings 5 and 12: default/maximum limits and who owns what. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BosunError } from '../../../src/domain/errors.js';
import { LABEL } from '../../../src/domain/labels.js';
import { DEFAULT_POLICY, PolicySchema } from '../../../src/domain/policy.js';
import { applyLimits, outputLimitBytes, sizeToBytes } from '../../../src/domain/policy/limits.js';
import { ensureMayActOn, ensureUserLabels, mayActOn } from '../../../src/domain/policy/ownership.js';
import type { ContainerSpec } from '../../../src/domain/engine/index.js';

const MiB = 1024 * 1024;
const spec: ContainerSpec = { image: 'bosun-busybox' };

function refused(fn: () => unknown, code: string, field: string): void {
  assert.throws(fn, (e: unknown) => e instanceof BosunError && e.code === code && e.field === field);
}

describe('applyLimits', () => {
  it('fills every default when the spec asks for nothing', () => {
    const s = applyLimits(DEFAULT_POLICY, spec);
    assert.deepEqual(s.resources, { memory: 512 * MiB, nanoCpus: 1e9, pidsLimit: 512 });
    assert.deepEqual(s.logConfig, { type: 'json-file', config: { 'max-size': String(10 * MiB), 'max-file': '3' } });
  });

  it('keeps what the spec asks within the maximum, and other drivers without rotation options', () => {
    const s = applyLimits(DEFAULT_POLICY, { ...spec, resources: { memory: 8 * 1024 * MiB, pidsLimit: 32768 }, logConfig: { type: 'local', config: { 'max-size': '50m' } } });
    assert.deepEqual(s.resources, { memory: 8 * 1024 * MiB, nanoCpus: 1e9, pidsLimit: 32768 });
    assert.deepEqual(s.logConfig?.config, { 'max-size': String(50 * MiB), 'max-file': '3' });
    assert.deepEqual(applyLimits(DEFAULT_POLICY, { ...spec, logConfig: { type: 'syslog' } }).logConfig, { type: 'syslog', config: {} });
  });

  it('refuses asks above the maximum or unlimited, naming the field (with the stack prefix)', () => {
    refused(() => applyLimits(DEFAULT_POLICY, { ...spec, resources: { memory: 9 * 1024 * MiB } }), 'policy_denied', 'resources.memory');
    refused(() => applyLimits(DEFAULT_POLICY, { ...spec, resources: { memory: 0 } }), 'policy_denied', 'resources.memory');
    refused(() => applyLimits(DEFAULT_POLICY, { ...spec, resources: { nanoCpus: 65e9 } }), 'policy_denied', 'resources.cpus');
    refused(() => applyLimits(DEFAULT_POLICY, { ...spec, resources: { pidsLimit: -1 } }), 'policy_denied', 'resources.pids_limit');
    refused(() => applyLimits(DEFAULT_POLICY, { ...spec, resources: { pidsLimit: -1 } }, 'stack.services.a.'), 'policy_denied', 'stack.services.a.resources.pids_limit');
    refused(() => applyLimits(DEFAULT_POLICY, { ...spec, resources: { memorySwap: -1 } }), 'policy_denied', 'resources.memory_swap');
    refused(() => applyLimits(DEFAULT_POLICY, { ...spec, logConfig: { type: 'json-file', config: { 'max-size': '1g' } } }), 'policy_denied', 'logging.max-size');
    refused(() => applyLimits(DEFAULT_POLICY, { ...spec, logConfig: { type: 'json-file', config: { 'max-file': '0' } } }), 'policy_denied', 'logging.max-file');
  });

  it('a policy that sets some limits keeps the built-in value for the others; a default above the maximum is capped', () => {
    const p = PolicySchema.parse({ default_limits: { memory: '64m', output_bytes: '1m' }, max_limits: { pids_limit: 100 } });
    assert.deepEqual(applyLimits(p, spec).resources, { memory: 64 * MiB, nanoCpus: 1e9, pidsLimit: 100 });
    assert.equal(outputLimitBytes(p), MiB);
    assert.equal(outputLimitBytes(DEFAULT_POLICY), 64 * MiB);
  });

  it('sizeToBytes reads bytes and k/m/g sizes', () => {
    assert.deepEqual([sizeToBytes(5), sizeToBytes('2k'), sizeToBytes('1.5m'), sizeToBytes('1G'), sizeToBytes('x')], [5, 2048, 1.5 * MiB, 1024 * MiB, undefined]);
  });
});

describe('ownership', () => {
  const any = { container_scope: 'any' as const };
  it('only bosun.managed=true counts as bosun’s under the default scope; any widens it', () => {
    assert.equal(mayActOn(DEFAULT_POLICY, { [LABEL.managed]: 'true' }), true);
    assert.equal(mayActOn(DEFAULT_POLICY, { [LABEL.test]: 'x' }), false);
    assert.equal(mayActOn(DEFAULT_POLICY, { [LABEL.managed]: 'yes' }), false);
    assert.equal(mayActOn(any, {}), true);
    refused(() => ensureMayActOn(DEFAULT_POLICY, 'volume', 'v', null, 'stack.volumes.v'), 'policy_denied', 'stack.volumes.v');
  });

  it('messages may not set bosun.* labels (whatever the case), except the test marker', () => {
    ensureUserLabels({ [LABEL.test]: 'r', app: 'x', 'bosunish.k': 'v' });
    refused(() => ensureUserLabels({ [LABEL.managed]: 'true' }), 'invalid_message', `labels.${LABEL.managed}`);
    refused(() => ensureUserLabels({ 'BOSUN.request': 'r' }, 'stack.labels'), 'invalid_message', 'stack.labels.BOSUN.request');
  });
});
