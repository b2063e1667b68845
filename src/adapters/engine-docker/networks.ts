/** Network and volume operations of the Docker engine adapter; all safe to repeat. */
import type Docker from 'dockerode';
import type { CallOptions, NetworkSpec, VolumeDetails } from '../../domain/engine/index.js';
import type { NetworksApi, VolumesApi } from '../../ports/engine.js';
import { CALL_TIMEOUT, abortable, bounded } from './call.js';
import { engineError, messageOf, statusOf } from './errors.js';
import { apiSegment } from './paths.js';

async function ensureNetwork(docker: Docker, spec: NetworkSpec, signal?: AbortSignal): Promise<string> {
  try {
    const existing = await docker.listNetworks(abortable({ filters: JSON.stringify({ name: [spec.name] }) }, signal));
    const exact = existing.find((n) => n.Name === spec.name);
    if (exact) return exact.Id;
    const n = await docker.createNetwork(abortable({
      Name: spec.name,
      Driver: spec.driver ?? 'bridge',
      Internal: spec.internal ?? false,
      Labels: spec.labels ?? {},
      CheckDuplicate: true,
    }, signal));
    return n.id;
  } catch (e) {
    throw engineError(e, `ensure network ${spec.name}`);
  }
}

async function removeNetwork(docker: Docker, name: string, signal?: AbortSignal): Promise<void> {
  try {
    await docker.getNetwork(apiSegment(name, 'network')).remove(abortable({}, signal));
  } catch (e) {
    if (statusOf(e) === 404) return;
    throw engineError(e, `remove network ${name}`);
  }
}

async function connectNetwork(docker: Docker, network: string, container: string, opts: { aliases?: string[] }, signal?: AbortSignal): Promise<void> {
  try {
    await docker.getNetwork(apiSegment(network, 'network')).connect(abortable({ Container: container, EndpointConfig: opts.aliases ? { Aliases: opts.aliases } : {} }, signal));
  } catch (e) {
    if (statusOf(e) === 403 && /already exists/i.test(messageOf(e))) return;
    throw engineError(e, `connect ${container} to ${network}`);
  }
}

async function disconnectNetwork(docker: Docker, network: string, container: string, opts: { force?: boolean }, signal?: AbortSignal): Promise<void> {
  try {
    await docker.getNetwork(apiSegment(network, 'network')).disconnect(abortable({ Container: container, Force: opts.force ?? false }, signal));
  } catch (e) {
    if (statusOf(e) === 404) return;
    throw engineError(e, `disconnect ${container} from ${network}`);
  }
}

async function ensureVolume(docker: Docker, name: string, labels: Record<string, string>, signal?: AbortSignal): Promise<{ created: boolean }> {
  try {
    const exists = await docker.getVolume(apiSegment(name, 'volume')).inspect(abortable({}, signal)).then(() => true, (e: unknown) => {
      if (statusOf(e) === 404) return false;
      throw e;
    });
    if (exists) return { created: false };
    await docker.createVolume(abortable({ Name: name, Labels: labels }, signal));
    return { created: true };
  } catch (e) {
    throw engineError(e, `create volume ${name}`);
  }
}

async function removeVolume(docker: Docker, name: string, signal?: AbortSignal): Promise<void> {
  try {
    await docker.getVolume(apiSegment(name, 'volume')).remove(abortable({}, signal));
  } catch (e) {
    if (statusOf(e) === 404) return;
    throw engineError(e, `remove volume ${name}`);
  }
}

export class DockerNetworks implements NetworksApi {
  constructor(private readonly docker: Docker) {}

  ensure(spec: NetworkSpec, o?: CallOptions): Promise<string> {
    return bounded(o, CALL_TIMEOUT.quick, `ensure network ${spec.name}`, (signal) => ensureNetwork(this.docker, spec, signal));
  }

  remove(name: string, o?: CallOptions): Promise<void> {
    return bounded(o, CALL_TIMEOUT.quick, `remove network ${name}`, (signal) => removeNetwork(this.docker, name, signal));
  }

  connect(network: string, container: string, o: { aliases?: string[] } & CallOptions = {}): Promise<void> {
    return bounded(o, CALL_TIMEOUT.quick, `connect ${container} to ${network}`, (signal) => connectNetwork(this.docker, network, container, o, signal));
  }

  disconnect(network: string, container: string, o: { force?: boolean } & CallOptions = {}): Promise<void> {
    return bounded(o, CALL_TIMEOUT.quick, `disconnect ${container} from ${network}`, (signal) => disconnectNetwork(this.docker, network, container, o, signal));
  }
}

export class DockerVolumes implements VolumesApi {
  constructor(private readonly docker: Docker) {}

  ensure(name: string, labels: Record<string, string> = {}, o?: CallOptions): Promise<{ created: boolean }> {
    return bounded(o, CALL_TIMEOUT.quick, `create volume ${name}`, (signal) => ensureVolume(this.docker, name, labels, signal));
  }

  remove(name: string, o?: CallOptions): Promise<void> {
    return bounded(o, CALL_TIMEOUT.quick, `remove volume ${name}`, (signal) => removeVolume(this.docker, name, signal));
  }

  inspect(name: string, o?: CallOptions): Promise<VolumeDetails | undefined> {
    return bounded(o, CALL_TIMEOUT.quick, `inspect volume ${name}`, async (signal) => {
      try {
        const v = (await this.docker.getVolume(apiSegment(name, 'volume')).inspect(abortable({}, signal))) as { Name: string; Labels?: Record<string, string> | null };
        return { name: v.Name, labels: v.Labels ?? {} };
      } catch (e) {
        if (statusOf(e) === 404) return undefined;
        throw engineError(e, `inspect volume ${name}`);
      }
    });
  }
}
