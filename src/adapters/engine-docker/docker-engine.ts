/**
 * The dockerode implementation of ContainerEngine: a facade over one class per resource. This
 * folder is the only place that imports dockerode. Built by createEngine() (../engine-factory.ts).
 */
import Docker from 'dockerode';
import type { CallOptions, EngineCapabilities, EngineInfo } from '../../domain/engine/index.js';
import type { ContainerEngine } from '../../ports/engine.js';
import { CALL_TIMEOUT, bounded } from './call.js';
import { DockerContainers } from './containers.js';
import { engineError } from './errors.js';
import { DockerEvents } from './events.js';
import { DockerExec } from './exec.js';
import { DockerImages } from './images.js';
import { DockerNetworks, DockerVolumes } from './networks.js';
import type { EngineFlavour } from './flavour.js';
import { rulesSource, type RulesSource } from './flavoured.js';

export interface DockerEngineOptions {
  /** As the docker CLI reads it: unix:///path, tcp://host:port, or a bare socket path / host:port (seed 003). */
  host?: string;
  /** Docker or Podman's compatible service; detected from /version on first use when not given. */
  flavour?: EngineFlavour;
}

/** Parses DOCKER_HOST-style addresses into dockerode's connection options. */
export function dockerConnection(host: string | undefined): Docker.DockerOptions {
  if (!host) return { socketPath: '/var/run/docker.sock' };
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  if (host.startsWith('/')) return { socketPath: host };
  const url = new URL(host.includes('://') ? host.replace(/^tcp:/, 'http:') : `http://${host}`);
  return { host: url.hostname, port: Number(url.port || 2375), protocol: url.protocol === 'https:' ? 'https' : 'http' };
}

export class DockerEngine implements ContainerEngine {
  readonly containers: DockerContainers;
  readonly images: DockerImages;
  readonly networks: DockerNetworks;
  readonly volumes: DockerVolumes;
  readonly exec: DockerExec;
  readonly events: DockerEvents;
  readonly #docker: Docker;
  readonly #rules: RulesSource;

  constructor(opts: DockerEngineOptions = {}) {
    const docker = new Docker(dockerConnection(opts.host ?? process.env.DOCKER_HOST));
    this.#docker = docker;
    this.#rules = rulesSource(docker, opts.flavour);
    this.networks = new DockerNetworks(docker);
    this.containers = new DockerContainers(docker, this.networks, this.#rules);
    this.images = new DockerImages(docker, this.#rules);
    this.volumes = new DockerVolumes(docker);
    this.exec = new DockerExec(docker);
    this.events = new DockerEvents(docker, this.#rules);
  }

  /** Which engine answers on this API: Docker, or Podman (whose differences the adapter maps). */
  async flavour(): Promise<EngineFlavour> {
    return (await this.#rules()).flavour;
  }

  async capabilities(): Promise<EngineCapabilities> {
    return { inPlaceUpdate: (await this.flavour()) !== 'podman' };
  }

  info(o?: CallOptions): Promise<EngineInfo> {
    return bounded(o, CALL_TIMEOUT.quick, 'engine info', async (signal) => {
      try {
        const [info, version, capabilities] = await Promise.all([this.#docker.info(), this.#docker.version(), this.capabilities()]);
        return {
          id: String(info.ID ?? ''),
          name: String(info.Name ?? ''),
          serverVersion: version.Version,
          apiVersion: version.ApiVersion,
          cpus: Number(info.NCPU ?? 0),
          memoryBytes: Number(info.MemTotal ?? 0),
          capabilities,
        };
      } catch (e) {
        throw signal?.aborted ? e : engineError(e, 'engine info');
      }
    });
  }
}
