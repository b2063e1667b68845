/** Network and volume operations of the Docker engine adapter; all safe to repeat. */
import type Docker from 'dockerode';
import type { NetworkSpec } from '../../ports/engine.js';
import { engineError, messageOf, statusOf } from './errors.js';
import { apiSegment } from './paths.js';
import { isAlreadyConnected } from './compat-errors.js';

export async function ensureNetwork(docker: Docker, spec: NetworkSpec): Promise<string> {
  try {
    const existing = await docker.listNetworks({ filters: JSON.stringify({ name: [spec.name] }) });
    const exact = existing.find((n) => n.Name === spec.name);
    if (exact) return exact.Id;
    const n = await docker.createNetwork({
      Name: spec.name,
      Driver: spec.driver ?? 'bridge',
      Internal: spec.internal ?? false,
      Labels: spec.labels ?? {},
      CheckDuplicate: true,
    });
    return n.id;
  } catch (e) {
    throw engineError(e, `ensure network ${spec.name}`);
  }
}

export async function removeNetwork(docker: Docker, name: string): Promise<void> {
  try {
    await docker.getNetwork(apiSegment(name, 'network')).remove();
  } catch (e) {
    if (statusOf(e) === 404) return;
    throw engineError(e, `remove network ${name}`);
  }
}

export async function connectNetwork(docker: Docker, network: string, container: string, opts: { aliases?: string[] } = {}): Promise<void> {
  try {
    await docker.getNetwork(apiSegment(network, 'network')).connect({ Container: container, EndpointConfig: opts.aliases ? { Aliases: opts.aliases } : {} });
  } catch (e) {
    if (isAlreadyConnected(e)) return;
    throw engineError(e, `connect ${container} to ${network}`);
  }
}

export async function disconnectNetwork(docker: Docker, network: string, container: string, opts: { force?: boolean } = {}): Promise<void> {
  try {
    await docker.getNetwork(apiSegment(network, 'network')).disconnect({ Container: container, Force: opts.force ?? false });
  } catch (e) {
    if (statusOf(e) === 404) return;
    throw engineError(e, `disconnect ${container} from ${network}`);
  }
}

export async function ensureVolume(docker: Docker, name: string, labels: Record<string, string> = {}): Promise<{ created: boolean }> {
  try {
    const exists = await docker.getVolume(apiSegment(name, 'volume')).inspect().then(() => true, (e: unknown) => {
      if (statusOf(e) === 404) return false;
      throw e;
    });
    if (exists) return { created: false };
    await docker.createVolume({ Name: name, Labels: labels });
    return { created: true };
  } catch (e) {
    throw engineError(e, `create volume ${name}`);
  }
}

export async function removeVolume(docker: Docker, name: string): Promise<void> {
  try {
    await docker.getVolume(apiSegment(name, 'volume')).remove();
  } catch (e) {
    if (statusOf(e) === 404) return;
    throw engineError(e, `remove volume ${name}`);
  }
}
