/**
 * The end reply of workflow.start, pure: where it goes (response_channel and reply_to from the
 * stored paths), what it says per end status, and its message id (same for a resend of the
 * same end, new for a redriven execution's next end).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExecutionRecord } from '../../../src/ports/workflow-store.js';
import type { ExecutionState } from '../../../src/workflow/machine-types.js';
import { endReplyPathsJson, endReplyPathsOf, planEndReplies } from '../../../src/workflow/durable/end-reply.js';

const ended = (over: Partial<ExecutionRecord>, state: Partial<ExecutionState>): ExecutionRecord => ({
  id: 'e1', status: 'SUCCEEDED', fence: 3, redriveCount: 0, createdAt: 1_000, updatedAt: 3_500,
  state: { status: 'SUCCEEDED', ...state } as ExecutionState,
  replyTo: endReplyPathsJson({ request_id: 'r1', response_channel: 'out', reply_to: 'bosun.reply.x', correlation_id: 'c1' }),
  ...over,
});

test('a succeeded execution: the envelope with its output, to response_channel and reply_to, one message id', () => {
  const replies = planEndReplies(ended({}, { output: { n: 2 } }));
  assert.deepEqual(replies.map((r) => [r.channel, r.declare, r.correlationId, r.messageId]), [
    ['out', true, 'c1', 'e1:end:3'],
    ['bosun.reply.x', false, 'c1', 'e1:end:3'],
  ]);
  const env = JSON.parse(replies[0]!.body) as Record<string, unknown>;
  assert.deepEqual(env, { ok: true, action: 'workflow.start', request_id: 'r1', duration_ms: 2_500, result: { execution_id: 'e1', status: 'SUCCEEDED', output: { n: 2 } } });
});

test('a failed, timed-out or aborted execution: ok false with error and cause, no output', () => {
  for (const status of ['FAILED', 'TIMED_OUT', 'ABORTED'] as const) {
    const [r] = planEndReplies(ended({ status }, { status: 'FAILED', error: 'bosun.NonZeroExit', cause: 'exit 3' }));
    const env = JSON.parse(r!.body) as { ok: boolean; result: unknown };
    assert.equal(env.ok, false);
    assert.deepEqual(env.result, { execution_id: 'e1', status, error: 'bosun.NonZeroExit', cause: 'exit 3' });
  }
});

test('a redriven execution that ends again under a newer fence gets a new message id', () => {
  const [first] = planEndReplies(ended({}, {}));
  const [again] = planEndReplies(ended({ fence: 5 }, {}));
  assert.notEqual(first!.messageId, again!.messageId);
});

test('nothing to send while running or paused, or without a reply path', () => {
  assert.deepEqual(planEndReplies(ended({ status: 'RUNNING' }, {})), []);
  assert.deepEqual(planEndReplies(ended({ status: 'PAUSED' }, {})), []);
  assert.deepEqual(planEndReplies(ended({ replyTo: endReplyPathsJson({ request_id: 'r1' }) }, {})), []);
  assert.deepEqual(planEndReplies(ended({ replyTo: { something: 'else' } }, {})), []);
  const { replyTo: _none, ...noReply } = ended({}, {});
  assert.deepEqual(planEndReplies(noReply), []);
});

test('only reply_to: the envelope goes there alone', () => {
  const rec = ended({ replyTo: endReplyPathsJson({ request_id: 'r1', reply_to: 'bosun.reply.y' }) }, {});
  assert.deepEqual(endReplyPathsOf(rec.replyTo), { request_id: 'r1', reply_to: 'bosun.reply.y' });
  assert.deepEqual(planEndReplies(rec).map((r) => [r.channel, r.correlationId]), [['bosun.reply.y', 'r1']]);
});
