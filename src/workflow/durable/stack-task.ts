/**
 * `bosun:stack`: a workflow task that is a stack action. The Parameters are the `stack`
 * channel's message (same schema, same policy, same handler); the result is the action's
 * `result`. Safe to run again after a crash: up/update/down converge, and a run_script
 * container carries the task's labels, so a successor adopts it instead of starting a second.
 */
import { handleStackMessage, StackMessage } from '../../actions/stack.js';
import { isBosunError } from '../../domain/errors.js';
import { LABEL } from '../../domain/labels.js';
import type { Policy } from '../../domain/policy.js';
import type { Clock } from '../../ports/clock.js';
import type { ContainerEngine } from '../../ports/engine.js';
import type { Logger } from '../../util/log.js';
import { Bosun, States } from '../errors.js';
import { badParameters, taskActionContext, taskLabels, toJson } from './task-action.js';
import { failure, type Finished, type TaskContext, type TaskOutcome, type TaskRunner } from './tasks.js';
import { taskPolicy } from './task-tenant.js';

export const RESOURCE = 'bosun:stack';

export interface StackTaskDeps {
  engine: ContainerEngine;
  policy: Policy;
  log: Logger;
  clock?: Clock;
  /** Extra labels on everything the stack makes (tests label what they make). */
  labels?: Record<string, string>;
}

const LOG_TAIL = 2_000;

/** Codes that mean the Parameters themselves are wrong (a field, a missing service), not that the action failed. */
const PARAMETER_CODES = new Set(['invalid_message', 'bad_json', 'not_found']);

/** The cause of bosun.StackFailed: JSON with the code, what failed, and the action's result (a script's log cut to its tail). */
function stackFailedCause(code: string, message: string, result?: unknown): string {
  const r = result as { log?: unknown } | undefined;
  const trimmed = r && typeof r.log === 'string' ? { ...r, log: r.log.slice(-LOG_TAIL) } : result;
  return JSON.stringify({ code, message, ...(trimmed !== undefined ? { result: trimmed } : {}) });
}

export class StackTaskRunner implements TaskRunner {
  constructor(private readonly d: StackTaskDeps) {}

  async run(ctx: TaskContext): Promise<TaskOutcome> {
    const parsed = StackMessage.safeParse(ctx.command.parameters);
    if (!parsed.success) return badParameters(RESOURCE, parsed.error);
    const m = parsed.data;
    const tenant = taskPolicy(this.d.policy, ctx);
    if ('failed' in tenant) return tenant.failed;
    const stopWaiting = AbortSignal.any([ctx.signal, ctx.detached]);
    const actx = { ...taskActionContext(ctx, { ...this.d, policy: tenant.policy }, stopWaiting, RESOURCE), ...(ctx.publisher !== undefined ? { publisher: ctx.publisher } : {}) };
    const labels = this.d.labels;
    const own = taskLabels(ctx);
    try {
      const out = await handleStackMessage(m, actx, {
        ...(labels ? { labels } : {}),
        // The task removes the script's container itself, once its result is stored (after a crash before that, it is adopted).
        script: { labels: own, adopt: { label: LABEL.wfToken, value: ctx.command.token }, keepForCaller: true },
      });
      const result = toJson(out.reply.result ?? null);
      const scriptId = m.action === 'run_script' ? out.reply.container?.id : undefined;
      const outcome: Finished = out.ok === false
        ? failure(Bosun.StackFailed, stackFailedCause(out.error?.code ?? 'engine_error', out.error?.message ?? 'the stack action failed', result))
        : { ok: true, output: result };
      if (scriptId) {
        const id = scriptId;
        const remove = (): Promise<void> => this.d.engine.containers.remove(id, { force: true });
        // Cancelled: no report follows, so the script's container goes now; detached, it stays for the next runner.
        if (ctx.signal.aborted) await remove().catch(() => undefined);
        else if (m.script?.remove_created_after !== false) outcome.afterReport = remove;
      }
      return outcome;
    } catch (e) {
      if (!isBosunError(e)) throw e;
      if (e.code === 'policy_denied') return failure(Bosun.PolicyDenied, e.message);
      if (PARAMETER_CODES.has(e.code)) return failure(States.Runtime, `${RESOURCE} Parameters: ${e.field ? `${e.field}: ` : ''}${e.message}`);
      return failure(Bosun.StackFailed, stackFailedCause(e.code, e.message));
    }
  }
}
