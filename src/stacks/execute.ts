/**
 * Carries a stack plan out through the ContainerEngine: networks and volumes first
 * (stack-resources.ts), then
 * each container's operations once the steps it waits for are done — independent branches
 * run in parallel. Returns one result per container; a failure stops only what depends
 * on it, and everything already done is reported.
 */
import type { ContainerEngine } from '../ports/engine.js';
import { LABEL } from '../domain/labels.js';
import { toBosunError, type ErrorCode } from '../domain/errors.js';
import type { ContainerOp, ContainerStep, DesiredStack, StackPlan } from '../domain/stack.js';
import { systemClock, type Clock } from '../ports/clock.js';
import { awaitDependency } from './depends-on.js';
import { ensureAttached, prepareResources } from './stack-resources.js';

export type StepStatus = 'unchanged' | 'done' | 'failed' | 'skipped';

export interface ContainerResult {
  container: string;
  service: string;
  instance: string;
  id?: string;
  status: StepStatus;
  /** Operations carried out, in order. */
  done: string[];
  reasons: string[];
  error?: { code: ErrorCode; message: string; op: string };
}

export interface ProgressEvent {
  container: string;
  phase: 'op' | 'done' | 'failed' | 'skipped';
  op?: string;
  message?: string;
}

export interface ExecuteOptions {
  onProgress?: (e: ProgressEvent) => void;
  signal?: AbortSignal;
  /** How long to wait for a dependency to become healthy / complete (default 120 s). */
  waitTimeoutMs?: number;
  stopTimeoutSec?: number;
  /** Times the depends_on waits. */
  clock?: Clock;
}

interface Milestones {
  created: Promise<ContainerResult>;
  finished: Promise<ContainerResult>;
}

const opName = (o: ContainerOp) => (o.op === 'exec' ? `exec ${o.command.cmd.join(' ')}` : o.op === 'connect' || o.op === 'disconnect' ? `${o.op} ${o.network}` : o.op === 'kill' ? `kill ${o.signal}` : o.op);

export class StackExecutor {
  /** Work done once per run whatever asks for it: image pulls and builds, attached volumes. */
  private readonly onceWork = new Map<string, Promise<unknown>>();
  private readonly ids = new Map<string, string>();

  constructor(private readonly engine: ContainerEngine, private readonly stack: DesiredStack, private readonly opts: ExecuteOptions = {}) {}

  async execute(plan: StackPlan): Promise<ContainerResult[]> {
    const creates = plan.steps.some((s) => s.ops.some((o) => o.op === 'create' || o.op === 'connect'));
    if (creates) await prepareResources(this.engine, plan, this.labels());
    for (const s of plan.steps) if (s.existingId) this.ids.set(s.container, s.existingId);
    // Each step has two milestones: `created` (its create op done, or at once when it creates
    // nothing) and `finished`. Creating waits only for the dependencies' creation, so fresh
    // containers are created ahead; starting (and everything after create) waits for the
    // dependencies to finish, as before.
    const running = new Map<string, Milestones>();
    const byName = new Map(plan.steps.map((s) => [s.container, s]));
    const run = (step: ContainerStep): Milestones => {
      let m = running.get(step.container);
      if (!m) {
        let markCreated!: (r: ContainerResult) => void;
        const created = new Promise<ContainerResult>((r) => (markCreated = r));
        const deps = (phase: 'created' | 'finished') => step.after.map((a) => { const d = byName.get(a); return d ? run(d)[phase] : undefined; });
        m = { created, finished: this.runStep(step, deps, markCreated) };
        running.set(step.container, m);
      }
      return m;
    };
    const results = await Promise.all(plan.steps.map((st) => run(st).finished));
    for (const v of plan.removeVolumes) await this.engine.volumes.remove(v).catch(() => undefined);
    return results;
  }

  private labels(): Record<string, string> {
    return { [LABEL.managed]: 'true', [LABEL.stack]: this.stack.name, ...(this.stack.labels ?? {}) };
  }

  private async runStep(step: ContainerStep, deps: (phase: 'created' | 'finished') => (Promise<ContainerResult> | undefined)[], markCreated: (r: ContainerResult) => void): Promise<ContainerResult> {
    const result: ContainerResult = { container: step.container, service: step.service, instance: step.instance, status: step.ops.length ? 'done' : 'unchanged', done: [], reasons: [...step.reasons], ...(step.existingId ? { id: step.existingId } : {}) };
    const createAt = step.ops.findIndex((o) => o.op === 'create');
    if (createAt < 0) markCreated({ ...result });
    const blocked = (ds: (ContainerResult | undefined)[]) => ds.find((d) => d && (d.status === 'failed' || (d.status === 'skipped' && step.ops.length > 0)));
    const skip = (failedDep: ContainerResult): ContainerResult => {
      result.status = 'skipped';
      result.reasons.push(`not attempted: ${failedDep.container} ${failedDep.status}${result.done.length ? ` (done before: ${result.done.join(', ')})` : ''}`);
      this.opts.onProgress?.({ container: step.container, phase: 'skipped', message: result.reasons.at(-1)! });
      return result;
    };
    try {
      // Phase 1: up to and including create, once the dependencies exist.
      let next = 0;
      if (createAt >= 0) {
        const failedDep = blocked(await Promise.all(deps('created')));
        if (failedDep) return skip(failedDep);
        for (; next <= createAt; next++) if (!(await this.runOp(step, step.ops[next]!, result))) return result;
        markCreated({ ...result });
      }
      // Phase 2: the rest, once the dependencies are done.
      const failedDep = blocked(await Promise.all(deps('finished')));
      if (failedDep && step.ops.length) return skip(failedDep);
      for (; next < step.ops.length; next++) {
        if (!(await this.runOp(step, step.ops[next]!, result))) return result;
      }
      const id = this.ids.get(step.container);
      if (id) result.id = id;
      else delete result.id;
      if (step.ops.length) this.opts.onProgress?.({ container: step.container, phase: 'done', message: result.done.join(', ') });
      return result;
    } finally {
      markCreated({ ...result });
    }
  }

  /** One operation; false (with the error recorded) when it failed. */
  private async runOp(step: ContainerStep, op: ContainerOp, result: ContainerResult): Promise<boolean> {
    const name = opName(op);
    try {
      if (this.opts.signal?.aborted) throw toBosunError(this.opts.signal.reason ?? new Error('aborted'), 'timeout');
      if (op.op === 'start') await this.awaitConditions(step);
      this.opts.onProgress?.({ container: step.container, phase: 'op', op: name });
      await this.apply(step, op, result);
      result.done.push(name);
      return true;
    } catch (e) {
      const err = toBosunError(e, 'engine_error');
      result.status = 'failed';
      result.error = { code: err.code, message: err.message, op: name };
      this.opts.onProgress?.({ container: step.container, phase: 'failed', op: name, message: err.message });
      return false;
    }
  }

  private id(step: ContainerStep): string {
    return this.ids.get(step.container) ?? step.container;
  }

  private async apply(step: ContainerStep, op: ContainerOp, result: ContainerResult): Promise<void> {
    const e = this.engine;
    const svc = this.stack.services[step.service]!;
    const stopTimeout = this.opts.stopTimeoutSec ?? step.spec?.stopTimeoutSec;
    switch (op.op) {
      case 'build':
        return void (await this.once(svc.image, () => e.images.build({ contextDir: svc.build!.context, tag: svc.image, ...(svc.build?.dockerfile ? { dockerfile: svc.build.dockerfile } : {}), ...(svc.build?.args ? { buildArgs: svc.build.args } : {}), labels: this.labels() })));
      case 'pull':
        return void (await this.once(svc.image, () => e.images.pull({ ref: svc.image, ...(this.opts.signal ? { signal: this.opts.signal } : {}) })));
      case 'stop':
        return e.containers.stop(this.id(step), stopTimeout !== undefined ? { timeoutSec: stopTimeout } : {});
      case 'remove':
        await e.containers.remove(this.id(step), { force: true });
        this.ids.delete(step.container);
        return;
      case 'create': {
        for (const [volume, path] of Object.entries(svc.attached)) await this.once(`attached ${volume}`, () => ensureAttached(this.engine, svc, volume, path, this.labels(), this.opts.signal));
        const { id } = await e.containers.create(step.spec!);
        this.ids.set(step.container, id);
        result.id = id;
        return;
      }
      case 'start':
        return e.containers.start(this.id(step));
      case 'restart':
        return e.containers.restart(this.id(step), stopTimeout !== undefined ? { timeoutSec: stopTimeout } : {});
      case 'kill':
        return e.containers.kill(this.id(step), op.signal);
      case 'update_in_place':
        return e.containers.update(this.id(step), { ...(op.resources ? { resources: op.resources } : {}), ...(op.restartPolicy ? { restartPolicy: op.restartPolicy } : {}) });
      case 'connect':
        return e.networks.connect(op.network, this.id(step), { aliases: op.aliases });
      case 'disconnect':
        return e.networks.disconnect(op.network, this.id(step), { force: true });
      case 'exec':
        return void (await e.exec.run(this.id(step), { cmd: op.command.cmd, detach: true, ...(op.command.user ? { user: op.command.user } : {}) }));
    }
  }

  private once(key: string, work: () => Promise<unknown>): Promise<unknown> {
    let p = this.onceWork.get(key);
    if (!p) {
      p = work();
      this.onceWork.set(key, p);
    }
    return p;
  }

  /** Compose depends_on conditions, one dependency after the other (depends-on.ts). */
  private async awaitConditions(step: ContainerStep): Promise<void> {
    const o = { timeoutMs: this.opts.waitTimeoutMs ?? 120_000, clock: this.opts.clock ?? systemClock, ...(this.opts.signal ? { signal: this.opts.signal } : {}) };
    for (const w of step.waitFor) await awaitDependency(this.engine, w.container, this.ids.get(w.container) ?? w.container, w.condition, o);
  }
}
