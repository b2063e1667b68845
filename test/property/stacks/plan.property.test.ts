/**
 * Safety invariants of the stack planner over random dependency DAGs:
 * an up-to-date stack plans nothing; every step waits only for steps in the plan, in
 * dependency order (dependencies first going up, dependents first going down); and the
 * steps' wait graph has no cycle.
 */
import { describe, it } from 'node:test';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { parseStack } from '../../../src/stacks/load.js';
import { planIsEmpty, planStackAction } from '../../../src/planner/stack/plan.js';
import { findCycle } from '../../../src/planner/stack/graph.js';
import { DEFAULT_STACK_OPTIONS, STACK_ACTIONS } from '../../../src/domain/stack.js';
import { observedUpToDate } from '../../unit/stacks/fixtures.js';

/** Random DAG: service i may depend only on services j < i. */
const dagStack = fc.integer({ min: 1, max: 10 }).chain((n) =>
  fc.tuple(
    fc.array(fc.array(fc.boolean(), { minLength: n, maxLength: n }), { minLength: n, maxLength: n }),
    fc.array(fc.constantFrom('64m', '128m', undefined), { minLength: n, maxLength: n }),
  ).map(([edges, mems]) => {
    const services: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const deps = edges[i]!.map((e, j) => (e && j < i ? `s${j}` : undefined)).filter((x): x is string => x !== undefined);
      services[`s${i}`] = { image: `img${i % 3}:1`, command: `run ${i}`, ...(deps.length ? { depends_on: deps } : {}), ...(mems[i] ? { mem_limit: mems[i] } : {}) };
    }
    return stringify({ name: 'p', services });
  }),
);

describe('stack planner properties', () => {
  it('an up-to-date stack plans no change', () => {
    fc.assert(fc.property(dagStack, (text) => {
      const stack = parseStack(text, { env: {} });
      assert.ok(planIsEmpty(planStackAction('update', stack, observedUpToDate(stack), DEFAULT_STACK_OPTIONS)));
    }), { numRuns: 100 });
  });

  it('steps wait only for planned steps, in dependency order, without cycles', () => {
    fc.assert(fc.property(dagStack, fc.constantFrom(...STACK_ACTIONS), fc.boolean(), (text, action, fromScratch) => {
      const stack = parseStack(text, { env: {} });
      const observed = fromScratch ? { containers: [], images: {} } : observedUpToDate(stack);
      const plan = planStackAction(action, stack, observed, DEFAULT_STACK_OPTIONS);
      const names = new Set(plan.steps.map((s) => s.container));
      const svcOf = new Map(plan.steps.map((s) => [s.container, s.service]));
      const down = action === 'stop' || action === 'remove' || action === 'shutdown';
      for (const s of plan.steps) {
        for (const a of s.after) {
          assert.ok(names.has(a), `${s.container} waits for unplanned ${a}`);
          const [dependent, dependency] = down ? [svcOf.get(a)!, s.service] : [s.service, svcOf.get(a)!];
          const deps = stack.services[dependent]!.dependsOn.map((d) => d.service);
          assert.ok(deps.includes(dependency), `${s.container} after ${a} is not a dependency edge`);
        }
      }
      assert.equal(findCycle(new Map(plan.steps.map((s) => [s.container, s.after]))), undefined);
    }), { numRuns: 200 });
  });
});
