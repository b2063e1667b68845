/**
 * What a stack's containers need before they are created: its networks and volumes, and
 * attached volumes (made with their owner's first container, then prepared).
 */
import { LABEL } from '../domain/labels.js';
import { toBosunError } from '../domain/errors.js';
import type { DesiredService, StackPlan } from '../domain/stack.js';
import type { ContainerEngine } from '../ports/engine.js';
import { quoteShellWord as shellQuote } from '../util/shell-words.js';

export async function prepareResources(engine: ContainerEngine, plan: StackPlan, labels: Record<string, string>): Promise<void> {
  await Promise.all(plan.networks.filter((n) => !n.external).map((n) => engine.networks.ensure({ name: n.name, labels, ...(n.driver ? { driver: n.driver } : {}), ...(n.internal ? { internal: true } : {}) })));
  // attached volumes are made with their owner's first container (see ensureAttached)
  await Promise.all(plan.volumes.filter((v) => !v.external && !v.attachedTo).map((v) => engine.volumes.ensure(v.name, labels)));
}

/**
 * Creates an attached volume if missing and prepares it; a volume whose preparation failed
 * is removed again, so the next run creates and prepares it anew.
 */
export async function ensureAttached(engine: ContainerEngine, svc: DesiredService, volume: string, path: string, labels: Record<string, string>, signal?: AbortSignal): Promise<void> {
  if (!(await engine.volumes.ensure(volume, labels)).created) return;
  try {
    await prepareAttached(engine, svc, volume, path, labels, signal);
  } catch (e) {
    await engine.volumes.remove(volume).catch(() => undefined);
    throw e;
  }
}

/**
 * docker-map's volume preparation: a new attached volume gets the service's user as owner
 * and its permissions, by a short-lived root container of the service's own image (which
 * needs chown/chmod). It mounts the volume where the service does, so Docker's first-mount
 * copy of the image's content happens as it would have.
 */
async function prepareAttached(engine: ContainerEngine, svc: DesiredService, volume: string, path: string, labels: Record<string, string>, signal?: AbortSignal): Promise<void> {
  const user = svc.container.user;
  if (!user && !svc.attachedPermissions) return;
  const script = [
    ...(user ? [`chown -R ${shellQuote(user)} ${shellQuote(path)}`] : []),
    ...(svc.attachedPermissions ? [`chmod -R ${shellQuote(svc.attachedPermissions)} ${shellQuote(path)}`] : []),
  ].join(' && ');
  const { id } = await engine.containers.create({
    image: svc.image, entrypoint: ['sh', '-c'], cmd: [script], user: '0',
    mounts: [{ type: 'volume', source: volume, target: path }], labels: { ...labels, [LABEL.service]: `${svc.name}.prepare` },
  });
  try {
    await engine.containers.start(id);
    const { exitCode } = await engine.containers.wait(id, signal ? { signal } : {});
    if (exitCode !== 0) {
      const out = await engine.containers.logs(id).catch(() => ({ stdout: '', stderr: '' }));
      throw toBosunError(new Error(`preparing attached volume ${volume} (${script}) exited ${exitCode}: ${(out.stderr || out.stdout).trim()}`), 'nonzero_exit');
    }
  } finally {
    await engine.containers.remove(id, { force: true }).catch(() => undefined);
  }
}
