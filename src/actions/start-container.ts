/** Seed 000: start_container.create (detached) and start_container.response_channel (attached, output replied). */
import { attachedRunSchema, createRunSchema } from './schemas/run.js';
import { runAttached, runDetached } from './run-container.js';
import type { ActionDefinition } from './types.js';

export const startContainerCreate: ActionDefinition<typeof createRunSchema> = {
  channel: 'start_container.create',
  description: 'Create and start a container (build first with build: true); an existing container of that name is started instead.',
  schema: createRunSchema,
  replyChannelOf: (i) => i.response_channel,
  runKindOf: () => 'detached',
  handle: (input, ctx) => runDetached(ctx, input),
};

export const startContainerResponse: ActionDefinition<typeof attachedRunSchema> = {
  channel: 'start_container.response_channel',
  description: 'Run a container to completion and publish its output (envelope, or raw stdout) to response_channel.',
  schema: attachedRunSchema,
  replyChannelOf: (i) => i.response_channel,
  responseFormatOf: (i) => i.response_format,
  runKindOf: () => 'attached',
  handle: (input, ctx) => runAttached(ctx, input, { remove: input.remove, stream: input.stream, stdin: input.stdin }),
};
