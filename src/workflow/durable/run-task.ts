/**
 * `bosun:run`: a workflow task that is a container run. The Parameters are the run fields of
 * the agent's channels (same schema, same spec builder, same policy); the state's input goes
 * in env BOSUN_INPUT and on the container's stdin (closed after it; Parameters.stdin, when
 * given, is written instead). Labels carry execution, state, attempt and task token, and the name is
 * derived from them, so a run started before a crash is found and adopted — never started a
 * second time. Result: `{exit_code, stdout, stderr, json}`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { prepareImage } from '../../actions/image-source.js';
import { attachOutput, followOutput, superviseRun, type OutputReader } from '../../actions/run-output.js';
import { buildRunSpec } from '../../actions/run-spec.js';
import { runFields, stdinField } from '../../actions/schemas/run.js';
import type { ActionContext } from '../../actions/types.js';
import { isBosunError } from '../../domain/errors.js';
import { LABEL } from '../../domain/labels.js';
import { applyPolicyDefaults, type Policy } from '../../domain/policy.js';
import { enforcePolicyOnHost } from '../../host/policy.js';
import { applyLimits, outputLimitBytes } from '../../domain/policy/limits.js';
import { ensureUserLabels } from '../../domain/policy/ownership.js';
import type { Clock } from '../../ports/clock.js';
import type { ContainerSpec } from '../../domain/engine/index.js';
import type { ContainerEngine } from '../../ports/engine.js';
import type { Logger } from '../../util/log.js';
import { Bosun, States } from '../errors.js';
import type { Json } from '../json.js';
import { taskActionContext, taskLabels } from './task-action.js';
import { failure, type Finished, type TaskContext, type TaskOutcome, type TaskRunner } from './tasks.js';
import { admitTask, taskPolicy } from './task-tenant.js';
import type { RunQuotas } from '../../pipeline/quotas.js';

/** The run fields a task may use (no reply channel: the workflow is the receiver). */
export const runTaskSchema = z.strictObject({ ...runFields, stdin: stdinField.optional() });

export interface RunTaskDeps {
  engine: ContainerEngine;
  policy: Policy;
  log: Logger;
  clock?: Clock;
  /** Extra labels on every task container (tests label what they make). */
  labels?: Record<string, string>;
  /** Remove a task's container once its result is committed (default true). */
  remove?: boolean;
  /** Run quotas: each task start counts against its execution's starter. */
  quotas?: RunQuotas;
}

const STDERR_TAIL = 2_000;

/** Deterministic per task: the name a crashed agent's successor looks for. */
export function taskContainerName(executionId: string, token: string): string {
  return `bosun-wf-${createHash('sha256').update(`${executionId}\0${token}`).digest('hex').slice(0, 20)}`;
}

export function parseJsonOutput(stdout: string): Json {
  const text = stdout.trim();
  if (!text) return null;
  try {
    return JSON.parse(text) as Json;
  } catch {
    return null;
  }
}

export class RunTaskRunner implements TaskRunner {
  constructor(private readonly d: RunTaskDeps) {}

  async run(ctx: TaskContext): Promise<TaskOutcome> {
    const parsed = runTaskSchema.safeParse(ctx.command.parameters);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return failure(States.Runtime, `bosun:run Parameters: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`);
    }
    const input = parsed.data;
    const tenant = taskPolicy(this.d.policy, ctx);
    if ('failed' in tenant) return tenant.failed;
    const policy = tenant.policy;
    const stopWaiting = AbortSignal.any([ctx.signal, ctx.detached]);
    const actx = taskActionContext(ctx, { ...this.d, policy }, stopWaiting, 'bosun:run');
    const name = taskContainerName(ctx.executionId, ctx.command.token);
    try {
      ensureUserLabels(input.labels);
      let id: string;
      let reader: OutputReader | undefined;
      const stdin = input.stdin ?? JSON.stringify(ctx.command.input);
      const prior = await this.d.engine.containers.inspect(name);
      if (prior && prior.labels[LABEL.wfToken] === ctx.command.token) {
        id = prior.id;
        this.d.log.info({ execution: ctx.executionId, state: ctx.command.state, container: name }, 'workflow task: adopting its container');
        // Made but never started: attached first, so it gets its stdin (and EOF) as a fresh one does.
        if (!prior.state.running && prior.state.status === 'created') {
          reader = await attachOutput(actx, id, outputLimitBytes(policy), { stdin });
          await this.d.engine.containers.start(id);
        }
      } else {
        // The quota first, as for plain runs: a publisher over it gets no image build or pull either.
        const refused = await admitTask(this.d.quotas, policy, ctx, actx.requestId);
        if (refused) return refused;
        const spec = await this.spec(ctx, actx, input, name, policy);
        const outputLimit = outputLimitBytes(policy);
        const { id: made } = await this.d.engine.containers.create(spec);
        id = made;
        try {
          reader = await attachOutput(actx, id, outputLimit, { stdin });
          await this.d.engine.containers.start(id);
        } catch (e) {
          reader?.stop();
          await this.d.engine.containers.remove(id, { force: true }).catch(() => undefined);
          throw e;
        }
      }
      // A cancelled task (execution cancelled, task timeout, failed sibling) is not reported: its container goes now.
      const onCancel = (): void => void this.d.engine.containers.stop(id, { timeoutSec: 2 })
        .then(() => (this.d.remove !== false ? this.d.engine.containers.remove(id, { force: true }) : undefined))
        .catch(() => undefined);
      ctx.signal.addEventListener('abort', onCancel, { once: true });
      try {
        const timeoutMs = Math.min(input.timeout ?? policy.max_timeout_s, policy.max_timeout_s) * 1000;
        const end = await superviseRun(actx, id, reader ?? followOutput(actx, id, outputLimitBytes(policy)), { timeoutMs });
        const { stdout, stderr } = end.out;
        // A stopped (timed out, over the limit) container goes too, once the report is stored.
        const outcome: Finished = end.timedOut
          ? failure(States.Timeout, `the run did not finish within ${timeoutMs / 1000} s (the run's timeout or the policy's max_timeout_s); it was stopped`)
          : end.overLimit
            ? failure(States.TaskFailed, `the run wrote more output than the policy's output_bytes; it was stopped`)
            : end.exitCode === 0
              ? { ok: true, output: { exit_code: 0, stdout, stderr, json: parseJsonOutput(stdout) } }
              : failure(Bosun.NonZeroExit, JSON.stringify({ exit_code: end.exitCode, stderr: stderr.slice(-STDERR_TAIL) }));
        if (this.d.remove !== false) outcome.afterReport = () => this.d.engine.containers.remove(id, { force: true });
        return outcome;
      } finally {
        ctx.signal.removeEventListener('abort', onCancel);
      }
    } catch (e) {
      if (isBosunError(e) && e.code === 'policy_denied') return failure(Bosun.PolicyDenied, e.message);
      if (isBosunError(e) && e.code === 'image_not_found') return failure(Bosun.ImageNotFound, e.message);
      if (isBosunError(e) && e.code === 'invalid_message') return failure(States.Runtime, e.message);
      throw e;
    }
  }

  async sweep(executionId: string, open: ReadonlySet<string>): Promise<number> {
    if (this.d.remove === false) return 0;
    const left = await this.d.engine.containers.list({ all: true, labels: { [LABEL.wfExecution]: executionId } });
    const done = left.filter((c) => !open.has(c.labels[LABEL.wfToken] ?? ''));
    for (const c of done) await this.d.engine.containers.remove(c.id, { force: true });
    return done.length;
  }

  private async spec(ctx: TaskContext, actx: ActionContext, input: z.infer<typeof runTaskSchema>, name: string, policy: Policy): Promise<ContainerSpec> {
    const base = { requestId: actx.requestId, bodyHash: actx.bodyHash, channel: actx.channel, attached: true, ...(ctx.publisher !== undefined ? { publisher: ctx.publisher } : {}) };
    // Cheap policy refusals before any image work, as run_container does.
    enforcePolicyOnHost(policy, applyLimits(policy, applyPolicyDefaults(policy, buildRunSpec(input, { ...base, image: input.image, uuid: '0' }))));
    const prepared = await prepareImage(actx, input);
    const spec = buildRunSpec(input, { ...base, image: prepared.image, uuid: randomBytes(16).toString('hex') });
    spec.name = name;
    spec.env = [...(spec.env ?? []), `BOSUN_INPUT=${JSON.stringify(ctx.command.input)}`];
    // The input is on stdin too, closed after it (a task that never reads it is not held up).
    spec.openStdin = true;
    spec.stdinOnce = true;
    spec.labels = { ...spec.labels, ...(this.d.labels ?? {}), ...taskLabels(ctx) };
    const resolved = applyLimits(policy, applyPolicyDefaults(policy, spec));
    enforcePolicyOnHost(policy, resolved);
    return resolved;
  }
}
