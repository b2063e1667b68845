/**
 * Expands services into the concrete containers they describe: one per instance, each
 * with its name, resolved links and the bosun labels (stack, service, instance, spec hash).
 */
import type { ContainerSpec } from '../../domain/engine/index.js';
import { LABEL } from '../../domain/labels.js';
import { specHash } from './spec-hash.js';
import type { DesiredService, DesiredStack } from '../../domain/stack.js';

export interface DesiredContainer {
  name: string;
  service: string;
  instance: string;
  spec: ContainerSpec;
  hash: string;
}

export function containerName(stack: string, service: DesiredService, instance: string): string {
  if (service.containerName) return service.containerName;
  return instance ? `${stack}-${service.name}-${instance}` : `${stack}-${service.name}`;
}

/** The container of `target` that an instance links to: the same instance name if it has one, else its first. */
function linkTarget(stack: DesiredStack, target: DesiredService, instance: string): string {
  const inst = target.instances.includes(instance) ? instance : (target.instances[0] ?? '');
  return containerName(stack.name, target, inst);
}

export function desiredContainers(stack: DesiredStack, service: DesiredService): DesiredContainer[] {
  // compose `pid: service:X` shares X's PID namespace, as network_mode service:X does its network.
  const pidService = service.container.pidMode?.startsWith('service:') ? service.container.pidMode.slice('service:'.length) : undefined;
  return service.instances.map((instance) => {
    const name = containerName(stack.name, service, instance);
    const links = service.links.flatMap((l) => {
      const target = stack.services[l.service];
      return target ? [`${linkTarget(stack, target, instance)}:${l.alias}`] : [];
    });
    const base: ContainerSpec = {
      ...service.container,
      name,
      labels: {
        ...(service.container.labels ?? {}),
        [LABEL.managed]: 'true',
        [LABEL.stack]: stack.name,
        [LABEL.service]: service.name,
        [LABEL.instance]: instance,
      },
      ...(links.length ? { links } : {}),
      ...(service.networkModeService && stack.services[service.networkModeService]
        ? { networkMode: `container:${linkTarget(stack, stack.services[service.networkModeService]!, instance)}` }
        : {}),
      ...(pidService && stack.services[pidService] ? { pidMode: `container:${linkTarget(stack, stack.services[pidService]!, instance)}` } : {}),
    };
    const hash = specHash(base);
    return { name, service: service.name, instance, hash, spec: { ...base, labels: { ...base.labels, [LABEL.specHash]: hash } } };
  });
}
