/** The one place a container engine is built: `createEngine(config)` picks the adapter. */
import type { ContainerEngine } from '../ports/engine.js';
import { DockerEngine } from './engine-docker/docker-engine.js';

export type EngineConfig =
  /** The Docker Engine API (dockerd, or Podman's compatible service): `host` as DOCKER_HOST reads it. */
  { kind?: 'docker'; host?: string };

export function createEngine(config: EngineConfig = {}): ContainerEngine {
  switch (config.kind ?? 'docker') {
    case 'docker':
      return new DockerEngine(config.host ? { host: config.host } : {});
  }
}
