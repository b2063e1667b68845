/**
 * Where a workflow's bosun:publish may publish: the pure verdict (bosun's control channels
 * always refused, then deny, then allow) and the runner refusing with bosun.PolicyDenied under
 * the execution publisher's policy (a `users` override), before anything is published.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PolicySchema } from '../../../src/domain/policy.js';
import type { PublishOptions, Transport } from '../../../src/ports/transport.js';
import { publishChannelVerdict } from '../../../src/workflow/durable/publish-policy.js';
import { PublishTaskRunner } from '../../../src/workflow/durable/publish-task.js';
import type { TaskContext } from '../../../src/workflow/durable/tasks.js';

const policy = (doc: unknown) => PolicySchema.parse(doc);

describe('publishChannelVerdict', () => {
  test('the default policy allows ordinary channels, workflow.start and the callback channels', () => {
    const p = policy({});
    assert.equal(p.workflow_publish, undefined);
    for (const c of ['approvals', 'run_container', 'workflow.start', 'workflow.task_success', 'workflow.task_failure', 'workflow.task_heartbeat']) {
      assert.deepEqual(publishChannelVerdict(p, c), { allowed: true }, c);
    }
  });

  test('an agent naming publishers (users) allows no channel unless its policy lists some; a listed one is allowed', () => {
    const none = publishChannelVerdict(policy({}), 'approvals', [], true);
    assert.equal(none.allowed, false);
    if (!none.allowed) assert.match(none.rule, /names publishers \(users\) and sets no workflow_publish/);
    assert.deepEqual(publishChannelVerdict(policy({ workflow_publish: { allow: ['approvals'] } }), 'approvals', [], true), { allowed: true });
  });

  test("bosun's own control channels are refused even when the policy allows them by name", () => {
    const p = policy({ workflow_publish: { allow: ['*', 'bosun.errors', 'workflow.cancel'] } });
    for (const c of ['bosun.errors', 'bosun.anything', 'workflow.cancel', 'workflow.pause', 'workflow.resume', 'workflow.redrive', 'workflow.define']) {
      const v = publishChannelVerdict(p, c);
      assert.equal(v.allowed, false, c);
      if (!v.allowed) assert.match(v.rule, /bosun's own control channels/);
    }
    const extra = publishChannelVerdict(p, 'my.errors', ['my.errors']);
    assert.equal(extra.allowed, false);
  });

  test('deny wins over allow; a channel no allow pattern matches is refused; the rule names the pattern', () => {
    const p = policy({ workflow_publish: { allow: ['jobs.*', 'approvals'], deny: ['jobs.secret*'] } });
    assert.deepEqual(publishChannelVerdict(p, 'jobs.build'), { allowed: true });
    assert.deepEqual(publishChannelVerdict(p, 'approvals'), { allowed: true });
    assert.deepEqual(publishChannelVerdict(p, 'jobs.secret.keys'), { allowed: false, rule: `the policy's workflow_publish.deny has "jobs.secret*"` });
    assert.deepEqual(publishChannelVerdict(p, 'approvalsX'), { allowed: false, rule: `no pattern of the policy's workflow_publish.allow ("jobs.*", "approvals") matches it` });
    // glob metacharacters other than * are literal
    assert.equal(publishChannelVerdict(policy({ workflow_publish: { allow: ['a.b'] } }), 'aXb').allowed, false);
  });
});

describe('bosun:publish under the policy', () => {
  const sent: string[] = [];
  const transport = { kind: 'amqp', publish: async (channel: string, _b: Buffer | string, _o?: PublishOptions) => { sent.push(channel); } } as unknown as Transport;
  const ctx = (channel: string, publisher?: string): TaskContext => ({
    executionId: 'e.1',
    command: { type: 'ScheduleTask', token: 't1', resource: 'bosun:publish', parameters: { channel, message: { x: 1 } }, input: {}, attempt: 1, waitForTaskToken: false, state: 'P' },
    ...(publisher !== undefined ? { publisher } : {}),
    signal: new AbortController().signal,
    detached: new AbortController().signal,
  });
  const base = policy({ workflow_publish: { allow: ['jobs.*'] }, users: { ops: { workflow_publish: { allow: ['*'], deny: ['jobs.prod'] } } } });
  const runner = new PublishTaskRunner(transport, base);

  test('the base policy applies without a publisher: an allowed channel is published, another refused with bosun.PolicyDenied naming channel and rule', async () => {
    sent.length = 0;
    const plain = new PublishTaskRunner(transport, policy({ workflow_publish: { allow: ['jobs.*'] } }));
    assert.deepEqual(await plain.run(ctx('jobs.a')), { ok: true, output: { channel: 'jobs.a', published: true } });
    const out = await plain.run(ctx('other'));
    assert.ok('ok' in out && !out.ok);
    assert.equal(out.error, 'bosun.PolicyDenied');
    assert.match(out.cause, /^bosun:publish may not publish to "other": no pattern of the policy's workflow_publish\.allow \("jobs\.\*"\)/);
    assert.deepEqual(sent, ['jobs.a']);
  });

  test("a named publisher's override applies; an unnamed publisher is refused; control channels stay refused", async () => {
    sent.length = 0;
    assert.ok('ok' in (await runner.run(ctx('other', 'ops'))));
    const prod = await runner.run(ctx('jobs.prod', 'ops'));
    assert.ok('ok' in prod && !prod.ok && prod.error === 'bosun.PolicyDenied' && /workflow_publish\.deny has "jobs\.prod"/.test(prod.cause), JSON.stringify(prod));
    // with `users`, an execution without a publisher or with an unnamed one publishes nothing
    const anonymous = await runner.run(ctx('jobs.a'));
    assert.ok('ok' in anonymous && !anonymous.ok && anonymous.error === 'bosun.PolicyDenied' && /user_id/.test(anonymous.cause), JSON.stringify(anonymous));
    const stranger = await runner.run(ctx('jobs.a', 'mallory'));
    assert.ok('ok' in stranger && !stranger.ok && stranger.error === 'bosun.PolicyDenied' && /mallory/.test(stranger.cause), JSON.stringify(stranger));
    const control = await runner.run(ctx('workflow.cancel', 'ops'));
    assert.ok('ok' in control && !control.ok && control.error === 'bosun.PolicyDenied', JSON.stringify(control));
    assert.deepEqual(sent, ['other']);
  });

  test('on an agent naming publishers, a workflow_publish set nowhere refuses every channel for every tenant', async () => {
    sent.length = 0;
    const tenants = new PublishTaskRunner(transport, policy({ users: { a: {}, b: { workflow_publish: { allow: ['b.jobs'] } } } }));
    const a = await tenants.run(ctx('b.replies', 'a'));
    assert.ok('ok' in a && !a.ok && a.error === 'bosun.PolicyDenied' && /sets no workflow_publish/.test(a.cause), JSON.stringify(a));
    assert.ok('ok' in (await tenants.run(ctx('b.jobs', 'b'))));
    assert.deepEqual(sent, ['b.jobs']);
  });
});
