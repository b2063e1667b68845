/** The one place a container engine is built: `createEngine(config)` picks the adapter. */
import type { ContainerEngine } from '../ports/engine.js';
import { DockerEngine } from './engine-docker/docker-engine.js';

export type EngineConfig =
  /** The Docker Engine API (dockerd, or Podman's compatible service): `host` as DOCKER_HOST reads it. */
  | { kind?: 'docker'; host?: string }
  /** Podman's Docker-compatible service (scripts/ensure-podman.sh); its differences are mapped in engine-docker/podman.ts. */
  | { kind: 'podman'; host?: string };

/** Where scripts/ensure-podman.sh serves Podman. */
export const PODMAN_DEFAULT_HOST = 'unix:///run/bosun-podman/podman.sock';

export function createEngine(config: EngineConfig = {}): ContainerEngine {
  switch (config.kind ?? 'docker') {
    case 'docker':
      return new DockerEngine(config.host ? { host: config.host } : {});
    case 'podman':
      return new DockerEngine({ host: config.host ?? PODMAN_DEFAULT_HOST, flavour: 'podman' });
  }
}
