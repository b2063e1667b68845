/**
 * The dockerode implementation of ContainerEngine: a facade over one class per resource. This
 * folder is the only place that imports dockerode. Built by createEngine() (../engine-factory.ts).
 */
import Docker from 'dockerode';
import type { CallOptions, EngineInfo } from '../../domain/engine/index.js';
import type { ContainerEngine } from '../../ports/engine.js';
import { CALL_TIMEOUT, bounded } from './call.js';
import { DockerContainers } from './containers.js';
import { engineError } from './errors.js';
import { DockerEvents } from './events.js';
import { DockerExec } from './exec.js';
import { DockerImages } from './images.js';
import { DockerNetworks, DockerVolumes } from './networks.js';

export interface DockerEngineOptions {
  /** As the docker CLI reads it: unix:///path, tcp://host:port, or a bare socket path / host:port (seed 003). */
  host?: string;
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

  constructor(opts: DockerEngineOptions = {}) {
    const docker = new Docker(dockerConnection(opts.host ?? process.env.DOCKER_HOST));
    this.#docker = docker;
    this.networks = new DockerNetworks(docker);
    this.containers = new DockerContainers(docker, this.networks);
    this.images = new DockerImages(docker);
    this.volumes = new DockerVolumes(docker);
    this.exec = new DockerExec(docker);
    this.events = new DockerEvents(docker);
  }

  info(o?: CallOptions): Promise<EngineInfo> {
    return bounded(o, CALL_TIMEOUT.quick, 'engine info', async (signal) => {
      try {
        const [info, version] = await Promise.all([this.#docker.info(), this.#docker.version()]);
        return {
          id: String(info.ID ?? ''),
          name: String(info.Name ?? ''),
          serverVersion: version.Version,
          apiVersion: version.ApiVersion,
          cpus: Number(info.NCPU ?? 0),
          memoryBytes: Number(info.MemTotal ?? 0),
        };
      } catch (e) {
        throw signal?.aborted ? e : engineError(e, 'engine info');
      }
    });
  }
}
