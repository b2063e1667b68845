/** An agent whose policy names publishers runs no workflows (tasks are not yet scoped per publisher: review #2). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { workflowsOffBecause } from '../../../src/app/agent-workflows.js';
import { PolicySchema } from '../../../src/domain/policy/schema.js';

describe('workflows on an agent', () => {
  it('are on by default, off with --no-workflows', () => {
    assert.equal(workflowsOffBecause(PolicySchema.parse({}), undefined), undefined);
    assert.equal(workflowsOffBecause(PolicySchema.parse({}), true), undefined);
    assert.match(workflowsOffBecause(PolicySchema.parse({}), false) ?? '', /--no-workflows/);
  });
  it('are off when the policy names publishers, even when asked for', () => {
    const multiTenant = PolicySchema.parse({ users: { alice: {}, bob: {} } });
    assert.match(workflowsOffBecause(multiTenant, undefined) ?? '', /publishers \(users\)/);
    assert.match(workflowsOffBecause(multiTenant, true) ?? '', /publishers \(users\)/);
  });
});
