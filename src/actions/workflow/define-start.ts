/**
 * workflow.define (store a new version of a named definition) and workflow.start (start an
 * execution of a stored or inline definition; the end reply goes out when it ends).
 */
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { BosunError } from '../../domain/errors.js';
import type { WorkflowStore } from '../../ports/workflow-store.js';
import type { Definition } from '../../workflow/definition.js';
import { endReplyPathsJson, type EndReplyPaths } from '../../workflow/durable/end-reply.js';
import { startExecution } from '../../workflow/durable/start.js';
import type { ActionContext, ActionDefinition } from '../types.js';
import { checkedDefinition, common, definitionField, executionNameField, jsonField, scopeOf, starterOf, workflowNameField } from './fields.js';
import type { WorkflowActionDeps } from './index.js';

const defineSchema = z.strictObject({ ...common, name: workflowNameField, definition: definitionField });

export function workflowDefine(d: WorkflowActionDeps): ActionDefinition<typeof defineSchema> {
  return {
    channel: 'workflow.define',
    description: 'Store a new version of a named workflow definition (checked as `bosun workflow validate` checks it); replies {name, version}.',
    schema: defineSchema,
    replyChannelOf: (i) => i.response_channel,
    async handle(input, ctx) {
      const stored = await d.store.putDefinition(input.name, checkedDefinition(input.definition), starterOf(scopeOf(d.perPublisher, ctx.publisher)));
      return { reply: { result: { name: stored.name, version: stored.version } } };
    },
  };
}

const startSchema = z.strictObject({
  ...common,
  name: workflowNameField.optional(),
  version: z.int().positive('expected a version number (1, 2, …)').optional(),
  definition: definitionField.optional(),
  input: jsonField.optional(),
  execution_name: executionNameField.optional(),
}).superRefine((v, ctx) => {
  if ((v.name === undefined) === (v.definition === undefined)) {
    ctx.addIssue({ code: 'custom', path: [v.name === undefined ? 'name' : 'definition'], message: 'give either name (a stored definition) or definition (inline), exactly one' });
  }
  if (v.version !== undefined && v.name === undefined) ctx.addIssue({ code: 'custom', path: ['version'], message: 'version selects a stored definition: give name with it' });
});
type StartInput = z.infer<typeof startSchema>;

export function workflowStart(d: WorkflowActionDeps): ActionDefinition<typeof startSchema> {
  return {
    channel: 'workflow.start',
    description: 'Start an execution of a stored (name, version) or inline definition; replies {execution_id, status, created} at once and the end result to response_channel (and reply_to) when it ends. execution_name makes the start idempotent.',
    schema: startSchema,
    // The response_channel receives the end reply only; the start's own reply goes to reply_to.
    delivery: { replies: 'reply_to' },
    async handle(input, ctx) {
      const starter = starterOf(scopeOf(d.perPublisher, ctx.publisher));
      const { definition, definitionName, definitionVersion } = await resolveDefinition(d.store, input, starter);
      const replyTo = endPathsOf(input, ctx);
      const { created, record } = await startExecution(d.store, {
        definition,
        ...(starter !== undefined ? { starter } : {}),
        input: input.input ?? {},
        executionName: input.execution_name ?? executionIdFor(ctx),
        ...(definitionName !== undefined ? { definitionName, definitionVersion } : {}),
        ...(replyTo ? { replyTo: endReplyPathsJson(replyTo) } : {}),
      });
      // A short execution's end reply (which also goes to reply_to) must not overtake this reply:
      // the end reply waits until it is out, and the executor is woken then (its poll may still
      // find the execution first). A start whose reply failed is found by the executor's poll.
      if (created) d.startReplies?.begin(record.id);
      return {
        ...(created ? { afterSettle: async () => { d.startReplies?.settled(record.id); d.kick(); } } : {}),
        reply: {
          result: {
            execution_id: record.id, status: record.status, created,
            ...(record.definitionName !== undefined ? { name: record.definitionName, version: record.definitionVersion } : {}),
          },
        },
      };
    },
  };
}

async function resolveDefinition(store: WorkflowStore, input: StartInput, owner: string | undefined): Promise<{ definition: Definition; definitionName?: string; definitionVersion?: number }> {
  if (input.name === undefined) return { definition: checkedDefinition(input.definition!) };
  const rec = await store.getDefinition(input.name, input.version, owner);
  if (!rec) {
    const field = input.version !== undefined && (await store.getDefinition(input.name, undefined, owner)) ? 'version' : 'name';
    throw new BosunError('not_found', field === 'version' ? `workflow "${input.name}" has no version ${input.version}` : `no workflow named "${input.name}" (store it with workflow.define)`, { field, retryable: false });
  }
  return { definition: rec.definition, definitionName: rec.name, definitionVersion: rec.version };
}

function endPathsOf(input: StartInput, ctx: ActionContext): EndReplyPaths | undefined {
  if (!input.response_channel && !ctx.replyTo) return undefined;
  return {
    request_id: ctx.requestId,
    ...(input.response_channel ? { response_channel: input.response_channel } : {}),
    ...(ctx.replyTo ? { reply_to: ctx.replyTo } : {}),
    ...(ctx.correlationId ? { correlation_id: ctx.correlationId } : {}),
  };
}

/**
 * Without execution_name, a sender-given request id still names the execution, so a
 * redelivered start (the agent died before its reply) finds the execution it already made.
 */
function executionIdFor(ctx: ActionContext): string {
  if (!ctx.requestIdGiven) return randomUUID();
  const h = createHash('sha256').update('workflow.start\0').update(ctx.requestId).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
