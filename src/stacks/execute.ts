/**
 * Carries a stack plan out through the ContainerEngine: networks and volumes first, then
 * each container's operations once the steps it waits for are done — independent branches
 * run in parallel. Returns one result per container; a failure stops only what depends
 * on it, and everything already done is reported.
 */
import type { ContainerEngine } from '../ports/engine.js';
import { LABEL } from '../domain/labels.js';
import { toBosunError, type ErrorCode } from '../domain/errors.js';
import { sleep } from '../util/abort.js';
import { quoteShellWord as shellQuote } from '../util/shell-words.js';
import type { ContainerOp, ContainerStep, DependsCondition, DesiredService, DesiredStack, StackPlan } from '../domain/stack.js';

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
    if (creates) await this.prepareResources(plan);
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

  private async prepareResources(plan: StackPlan): Promise<void> {
    await Promise.all(plan.networks.filter((n) => !n.external).map((n) => this.engine.networks.ensure({ name: n.name, labels: this.labels(), ...(n.driver ? { driver: n.driver } : {}), ...(n.internal ? { internal: true } : {}) })));
    // attached volumes are made with their owner's first container (see ensureAttached)
    await Promise.all(plan.volumes.filter((v) => !v.external && !v.attachedTo).map((v) => this.engine.volumes.ensure(v.name, this.labels())));
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
        for (const [volume, path] of Object.entries(svc.attached)) await this.once(`attached ${volume}`, () => this.ensureAttached(svc, volume, path));
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

  /**
   * Creates an attached volume if missing and prepares it; a volume whose preparation failed
   * is removed again, so the next run creates and prepares it anew.
   */
  private async ensureAttached(svc: DesiredService, volume: string, path: string): Promise<void> {
    if (!(await this.engine.volumes.ensure(volume, this.labels())).created) return;
    try {
      await this.prepareAttached(svc, volume, path);
    } catch (e) {
      await this.engine.volumes.remove(volume).catch(() => undefined);
      throw e;
    }
  }

  /**
   * docker-map's volume preparation: a new attached volume gets the service's user as owner
   * and its permissions, by a short-lived root container of the service's own image (which
   * needs chown/chmod). It mounts the volume where the service does, so Docker's first-mount
   * copy of the image's content happens as it would have.
   */
  private async prepareAttached(svc: DesiredService, volume: string, path: string): Promise<void> {
    const user = svc.container.user;
    if (!user && !svc.attachedPermissions) return;
    const script = [
      ...(user ? [`chown -R ${shellQuote(user)} ${shellQuote(path)}`] : []),
      ...(svc.attachedPermissions ? [`chmod -R ${shellQuote(svc.attachedPermissions)} ${shellQuote(path)}`] : []),
    ].join(' && ');
    const { id } = await this.engine.containers.create({
      image: svc.image, entrypoint: ['sh', '-c'], cmd: [script], user: '0',
      mounts: [{ type: 'volume', source: volume, target: path }], labels: { ...this.labels(), [LABEL.service]: `${svc.name}.prepare` },
    });
    try {
      await this.engine.containers.start(id);
      const { exitCode } = await this.engine.containers.wait(id, this.opts.signal ? { signal: this.opts.signal } : {});
      if (exitCode !== 0) {
        const out = await this.engine.containers.logs(id).catch(() => ({ stdout: '', stderr: '' }));
        throw toBosunError(new Error(`preparing attached volume ${volume} (${script}) exited ${exitCode}: ${(out.stderr || out.stdout).trim()}`), 'nonzero_exit');
      }
    } finally {
      await this.engine.containers.remove(id, { force: true }).catch(() => undefined);
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

  /** Compose depends_on conditions: started (nothing more), healthy, completed successfully. */
  private async awaitConditions(step: ContainerStep): Promise<void> {
    const timeout = this.opts.waitTimeoutMs ?? 120_000;
    for (const w of step.waitFor) await this.awaitCondition(w.container, w.condition, timeout);
  }

  private async awaitCondition(container: string, condition: DependsCondition, timeoutMs: number): Promise<void> {
    if (condition === 'service_started') return;
    const id = this.ids.get(container) ?? container;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const d = await this.engine.containers.inspect(id);
      if (!d) throw toBosunError(new Error(`dependency ${container} does not exist`), 'not_found');
      if (condition === 'service_healthy') {
        if (d.state.health === 'healthy') return;
        if (!d.state.running) throw toBosunError(new Error(`dependency ${container} stopped before it became healthy`), 'engine_error');
        if (!d.healthcheck) throw toBosunError(new Error(`dependency ${container} has no healthcheck (condition service_healthy)`), 'engine_error');
      } else if (!d.state.running && d.state.status !== 'created') {
        if (d.state.exitCode === 0) return;
        throw toBosunError(new Error(`dependency ${container} exited with code ${d.state.exitCode} (condition service_completed_successfully)`), 'nonzero_exit');
      }
      if (Date.now() > deadline) throw toBosunError(new Error(`dependency ${container} not ${condition} within ${timeoutMs} ms`), 'timeout');
      await sleep(200, this.opts.signal);
    }
  }
}
