/**
 * What container tasks share: the labels that tie a container to its task (execution, state,
 * attempt, token — how a crashed runner's successor finds it), and the action context a task
 * runs an agent action's code under (a request id derived from the task, no publishing), and
 * how bad Parameters are reported.
 */
import { createHash } from 'node:crypto';
import type { ActionContext } from '../../actions/types.js';
import { LABEL } from '../../domain/labels.js';
import type { Policy } from '../../domain/policy.js';
import { systemClock, type Clock } from '../../ports/clock.js';
import type { ContainerEngine } from '../../ports/engine.js';
import type { Logger } from '../../util/log.js';
import type { z } from 'zod';
import { States } from '../errors.js';
import type { Json } from '../json.js';
import { failure, type Finished, type TaskContext } from './tasks.js';

export function taskLabels(ctx: TaskContext): Record<string, string> {
  const c = ctx.command;
  return { [LABEL.wfExecution]: ctx.executionId, [LABEL.wfState]: c.state, [LABEL.wfAttempt]: String(c.attempt), [LABEL.wfToken]: c.token };
}

export interface TaskActionDeps {
  engine: ContainerEngine;
  policy: Policy;
  log: Logger;
  clock?: Clock;
}

export function taskActionContext(ctx: TaskContext, d: TaskActionDeps, signal: AbortSignal, resource: string): ActionContext {
  const requestId = `wf-${createHash('sha256').update(`${ctx.executionId}\0${ctx.command.token}`).digest('hex').slice(0, 32)}`;
  return {
    engine: d.engine, policy: d.policy, log: d.log, clock: d.clock ?? systemClock, requestId, requestIdGiven: true, idGenerated: false,
    bodyHash: requestId, redelivered: false, channel: 'workflow', signal,
    publish: () => Promise.reject(new Error(`${resource} tasks do not publish`)),
    publishProgress: async () => undefined,
  };
}

/** Parameters that fail their schema: States.Runtime naming the first offending field. */
export function badParameters(resource: string, error: z.ZodError): Finished {
  const issue = error.issues[0];
  return failure(States.Runtime, `${resource} Parameters: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`);
}

/** A result as the store keeps it: plain JSON (undefined fields dropped). */
export function toJson(v: unknown): Json {
  return JSON.parse(JSON.stringify(v ?? null)) as Json;
}
