/** Plain-data fixtures for planner tests: a live container exactly as a desired spec would create it. */
import type { ContainerDetails, ContainerSpec } from '../../../src/domain/engine/index.js';
import type { ObservedContainer, ObservedState } from '../../../src/domain/stack.js';
import { desiredContainers } from '../../../src/planner/stack/containers.js';
import type { DesiredStack } from '../../../src/domain/stack.js';

export const IMAGE_ID = 'sha256:' + 'a'.repeat(64);

export function liveFrom(spec: ContainerSpec, id: string, state: Partial<ContainerDetails['state']> = {}): ObservedContainer {
  const networks: ContainerDetails['networks'] = {};
  for (const n of spec.networks ?? []) networks[n.name] = { ipAddress: '172.18.0.2', aliases: [...(n.aliases ?? []), id.slice(0, 12)] };
  const memory = spec.resources?.memory;
  return {
    id,
    name: spec.name!,
    image: spec.image,
    imageId: IMAGE_ID,
    created: '2026-01-01T00:00:00Z',
    state: { status: 'running', running: true, exitCode: 0, oomKilled: false, restartCount: 0, ...state },
    labels: { ...(spec.labels ?? {}), 'org.image.label': 'x' },
    cmd: spec.cmd ?? ['sh'],
    entrypoint: spec.entrypoint ?? [],
    env: ['PATH=/bin', ...(spec.env ?? [])],
    workingDir: spec.workingDir ?? '',
    user: spec.user ?? '',
    exposedPorts: [...(spec.exposedPorts ?? []), ...(spec.portBindings ?? []).map((b) => b.containerPort)],
    portBindings: (spec.portBindings ?? []).map((b) => ({ containerPort: b.containerPort, hostIp: b.hostIp ?? '', hostPort: b.hostPort ?? '' })),
    mounts: (spec.mounts ?? []).map((m) => ({ ...m, readOnly: m.readOnly ?? false })),
    // as Docker reports them: /target:/self/alias
    links: (spec.links ?? []).map((l) => { const [t, a] = l.split(':'); return `/${t}:/${spec.name}/${a}`; }),
    networkMode: spec.networkMode ?? spec.networks?.[0]?.name ?? 'default',
    networks,
    restartPolicy: spec.restartPolicy ?? { name: 'no' },
    resources: { ...(spec.resources ?? {}), ...(memory !== undefined && spec.resources?.memorySwap === undefined ? { memorySwap: memory * 2 } : {}) },
    ...(spec.healthcheck ? { healthcheck: spec.healthcheck } : {}),
    ...(spec.stopSignal ? { stopSignal: spec.stopSignal } : {}),
    privileged: false,
  };
}

/** The observed state right after the whole stack was brought up from `stack`. */
export function observedUpToDate(stack: DesiredStack): ObservedState {
  const containers: ObservedContainer[] = [];
  let n = 0;
  for (const svc of Object.values(stack.services)) {
    for (const c of desiredContainers(stack, svc)) containers.push(liveFrom(c.spec, `${(++n).toString(16).padStart(12, '0')}${'f'.repeat(52)}`));
  }
  const images: Record<string, string> = {};
  for (const svc of Object.values(stack.services)) images[svc.image] = IMAGE_ID;
  return { containers, images };
}
