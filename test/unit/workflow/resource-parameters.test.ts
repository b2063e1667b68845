/** Static Parameters of bosun:stack and bosun:service are checked with the definition; dynamic ones are left to the task. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateDefinition } from '../../../src/workflow/definition.js';

const task = (Resource: string, params: Record<string, unknown>, jsonata = false) => ({
  ...(jsonata ? { QueryLanguage: 'JSONata' } : {}),
  StartAt: 'T',
  States: { T: { Type: 'Task', Resource, [jsonata ? 'Arguments' : 'Parameters']: params, End: true } },
});
const problems = (d: unknown) => validateDefinition(d).map((p) => `${p.state}|${p.field}|${p.message}`);

describe('static task Parameters at definition time', () => {
  test('valid static Parameters of both resources pass', () => {
    assert.deepEqual(problems(task('bosun:stack', { action: 'up', stack: { inline: 'services: {}' } })), []);
    assert.deepEqual(problems(task('bosun:service', { service: 'web', replicas: 3, wait: true })), []);
    assert.deepEqual(problems(task('bosun:service', { service: 'web', spec: { replicas: 1, container: { name: 'web', image: 'nginx' } } })), []);
  });

  test('a wrong static field is named with its state and path', () => {
    const stack = problems(task('bosun:stack', { action: 'explode', stack: { inline: 'services: {}' } }));
    assert.equal(stack.length, 1, stack.join('\n'));
    assert.match(stack[0]!, /^T\|Parameters\.action\|bosun:stack: /);
    const script = problems(task('bosun:stack', { action: 'run_script', stack: { path: '/x/stack.yaml' } }));
    assert.ok(script.some((p) => p.startsWith('T|Parameters.script|') && /run_script needs `script`/.test(p)), script.join('\n'));
    const svc = problems(task('bosun:service', { service: 'web', replicas: -1 }));
    assert.ok(svc.some((p) => p.startsWith('T|Parameters.replicas|')), svc.join('\n'));
    const both = problems(task('bosun:service', { service: 'web', replicas: 1, spec: { container: { name: 'web', image: 'nginx' } } }));
    assert.ok(both.some((p) => p.startsWith('T|Parameters.replicas|') && /not both/.test(p)), both.join('\n'));
    const js = problems(task('bosun:service', { service: 'web', replica: 2 }, true));
    assert.ok(js.some((p) => p.startsWith('T|Arguments|') && /replica/.test(p)), js.join('\n'));
  });

  test('Parameters with a path or an expression are left to the task', () => {
    assert.deepEqual(problems(task('bosun:service', { 'service.$': '$.name', replicas: 'many' })), []);
    assert.deepEqual(problems(task('bosun:service', { service: '{% $states.input.name %}', replicas: -5 }, true)), []);
    assert.deepEqual(problems(task('bosun:stack', { action: 'up', stack: { 'inline.$': '$.compose' }, bogus: 1 })), []);
  });
});
