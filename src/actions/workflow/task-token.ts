/**
 * The task-token channels: workflow.task_success, workflow.task_failure, workflow.task_heartbeat.
 * Whoever received a callback task's message (bosun:publish.waitForTaskToken) reports on it
 * with the token it carried; the report goes to the execution's inbox and wakes the executor.
 */
import { z } from 'zod';
import type { Json } from '../../workflow/json.js';
import { reportTask, type TaskReport } from '../../workflow/durable/task-reports.js';
import { requestIdField, responseChannelField } from '../schemas/run.js';
import type { ActionDefinition } from '../types.js';
import type { WorkflowActionDeps } from './index.js';

const TOKEN_MAX = 1024;
const common = {
  task_token: z.string().min(1).max(TOKEN_MAX, `expected a task token of at most ${TOKEN_MAX} characters`).regex(/^[!-~]+$/, 'expected a task token as a callback task received it (printable ASCII)'),
  request_id: requestIdField.optional(),
  response_channel: responseChannelField.optional(),
};

const successSchema = z.strictObject({
  ...common,
  output: z.unknown().refine((v) => v !== undefined, { message: 'expected the task\'s output (any JSON value)' }),
});
const failureSchema = z.strictObject({
  ...common,
  error: z.string().min(1).max(256).optional(),
  cause: z.string().max(32_768).optional(),
});
const heartbeatSchema = z.strictObject(common);

/** The error of a task_failure that names none: what `States.TaskFailed` and `States.ALL` catch. */
export const DEFAULT_TASK_FAILURE_ERROR = 'States.TaskFailed';

type Common = z.infer<typeof heartbeatSchema>;

function channel<S extends z.ZodType<Common>>(name: string, description: string, schema: S, reportOf: (i: z.infer<S>) => TaskReport, deps: WorkflowActionDeps): ActionDefinition<S> {
  return {
    channel: name,
    description,
    schema,
    replyChannelOf: (i) => i.response_channel,
    async handle(input) {
      const done = await reportTask(deps.store, input.task_token, reportOf(input));
      deps.kick();
      return { reply: { result: { execution_id: done.executionId, state: done.state, accepted: true } } };
    },
  };
}

export function taskTokenActions(deps: WorkflowActionDeps) {
  return [
    channel('workflow.task_success', 'Complete a callback task (bosun:publish.waitForTaskToken) with its output; the first report of a task wins.', successSchema,
      (i) => ({ type: 'TaskSucceeded', output: i.output as Json }), deps),
    channel('workflow.task_failure', `Fail a callback task with an error (default ${DEFAULT_TASK_FAILURE_ERROR}) and cause, for its Retry and Catch; the first report of a task wins.`, failureSchema,
      (i) => ({ type: 'TaskFailed', error: i.error ?? DEFAULT_TASK_FAILURE_ERROR, ...(i.cause !== undefined ? { cause: i.cause } : {}) }), deps),
    channel('workflow.task_heartbeat', 'Tell a callback task with HeartbeatSeconds that its work goes on (restarts the heartbeat timer).', heartbeatSchema,
      () => ({ type: 'TaskHeartbeat' }), deps),
  ] as const;
}
