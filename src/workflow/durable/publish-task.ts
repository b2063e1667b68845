/**
 * `bosun:publish`: a workflow task that publishes one message to a broker channel.
 * Plain: succeeds with `{channel, published: true}` once the broker confirmed the message.
 * `.waitForTaskToken`: the message must carry `$$.Task.Token`; the task is then dispatched and
 * the state waits for workflow.task_success / task_failure (or its timeouts).
 *
 * Delivery is at-least-once: a crash after the broker confirmed but before the store recorded
 * the task as dispatched (or reported) publishes it again on resume. Every publish of one task
 * carries the same message id, `wf.<executionId>.<token>` (a retry is a new token, so a new id),
 * so consumers can drop the repeat.
 */
import { z } from 'zod';
import { responseChannelField } from '../../actions/schemas/run.js';
import { isBosunError } from '../../domain/errors.js';
import { DEFAULT_POLICY, type Policy } from '../../domain/policy.js';
import { policyFor } from '../../domain/policy/publishers.js';
import { validate } from '../../domain/validate.js';
import type { Transport } from '../../ports/transport.js';
import { Bosun, States } from '../errors.js';
import type { Json } from '../json.js';
import { publishChannelVerdict } from './publish-policy.js';
import { failure, type TaskContext, type TaskOutcome, type TaskRunner } from './tasks.js';

export const publishTaskSchema = z.strictObject({
  channel: responseChannelField,
  message: z.unknown().refine((v) => v !== undefined, { message: 'expected the message to publish (any JSON value)' }),
  // bosun's own headers (x-bosun-publisher, x-bosun-resume, x-bosun-attempts, bosun-*) are refused:
  // today they are untrusted only because the agent publishes without user_id; the day it sets one
  // (to make the starter's policy apply) they would forge own copies, attempt counts and publishers.
  headers: z.record(
    z.string().refine((h) => !/^(x-)?bosun-/i.test(h), { message: 'expected a header name not starting with "bosun-" or "x-bosun-" (bosun\'s own)' }),
    z.string(),
  ).optional(),
});

/** Headers bosun adds to every message a workflow publishes. */
export const PUBLISH_HEADERS = { execution: 'bosun-execution-id', state: 'bosun-state' } as const;

export function publishMessageId(executionId: string, token: string): string {
  return `wf.${executionId}.${token}`;
}

/** Whether some string in the message starts with this task's public token prefix (`<execution>.<token>.`). */
function carriesToken(message: Json, prefix: string): boolean {
  if (typeof message === 'string') return message.startsWith(prefix);
  if (Array.isArray(message)) return message.some((m) => carriesToken(m, prefix));
  if (message !== null && typeof message === 'object') return Object.values(message).some((m) => carriesToken(m, prefix));
  return false;
}

export class PublishTaskRunner implements TaskRunner {
  constructor(
    private readonly transport: Transport | undefined,
    /** The agent's base policy; the task runs under policyFor(policy, ctx.publisher). */
    private readonly policy: Policy = DEFAULT_POLICY,
  ) {}

  /** The refusal cause, when the execution's publisher may not publish to `channel`. */
  private refusal(channel: string, publisher: string | undefined): string | undefined {
    let policy: Policy;
    try {
      policy = policyFor(this.policy, publisher);
    } catch (e) {
      if (isBosunError(e)) return `bosun:publish to "${channel}": ${e.message}`;
      throw e;
    }
    const verdict = publishChannelVerdict(policy, channel, [], this.policy.users !== undefined);
    return verdict.allowed ? undefined : `bosun:publish may not publish to "${channel}": ${verdict.rule}`;
  }

  async run(ctx: TaskContext): Promise<TaskOutcome> {
    const { command, executionId } = ctx;
    let p: z.infer<typeof publishTaskSchema>;
    try {
      p = validate(publishTaskSchema, command.parameters);
    } catch (e) {
      if (isBosunError(e)) return failure(States.Runtime, `bosun:publish Parameters: ${e.message}`);
      throw e;
    }
    const message = p.message as Json;
    if (command.waitForTaskToken && !carriesToken(message, `${executionId}.${command.token}.`)) {
      return failure(States.Runtime, 'bosun:publish.waitForTaskToken Parameters: message: expected the task token somewhere in the message (e.g. "TaskToken.$": "$$.Task.Token"), else nobody could report the task');
    }
    const refused = this.refusal(p.channel, ctx.publisher);
    if (refused !== undefined) return failure(Bosun.PolicyDenied, refused);
    if (!this.transport) return failure(States.Runtime, 'bosun:publish needs a broker: run the workflow in an agent (bosun agent), not with bosun workflow run');
    if (ctx.signal.aborted || ctx.detached.aborted) return failure(States.TaskFailed, 'cancelled before publishing');
    try {
      await this.transport.publish(p.channel, JSON.stringify(message), {
        messageId: publishMessageId(executionId, command.token),
        headers: { ...p.headers, [PUBLISH_HEADERS.execution]: executionId, [PUBLISH_HEADERS.state]: command.state },
        declare: true,
      });
    } catch (e) {
      return failure(States.TaskFailed, `publishing to ${p.channel} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    return command.waitForTaskToken ? { dispatched: true } : { ok: true, output: { channel: p.channel, published: true } };
  }
}
