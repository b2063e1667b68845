/** Workflows are on unless --no-workflows; a policy naming publishers no longer turns them off (wf-tenancy). */
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
  it('are on when the policy names publishers (each publisher has its own), and off with --no-workflows', () => {
    const multiTenant = PolicySchema.parse({ users: { alice: {}, bob: {} } });
    assert.equal(workflowsOffBecause(multiTenant, undefined), undefined);
    assert.equal(workflowsOffBecause(multiTenant, true), undefined);
    assert.match(workflowsOffBecause(multiTenant, false) ?? '', /--no-workflows/);
  });
});
