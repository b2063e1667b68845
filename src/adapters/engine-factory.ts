/** The one place a container engine is built: `createEngine(config)` picks the adapter. */
import type { ContainerEngine } from '../ports/engine.js';
import { DockerEngine } from './engine-docker/docker-engine.js';
import { FakeEngine, type FakeEngineOptions } from './engine-fake/index.js';

export type EngineConfig =
  /** The Docker Engine API (dockerd, or Podman's compatible service): `host` as DOCKER_HOST reads it. */
  | { kind?: 'docker'; host?: string }
  /** Podman's Docker-compatible service (scripts/ensure-podman.sh); its differences are mapped in engine-docker/podman.ts. */
  | { kind: 'podman'; host?: string }
  /** The in-memory engine (no processes), for unit tests of bosun's logic. */
  | { kind: 'fake'; fake?: FakeEngineOptions };

/** Where scripts/ensure-podman.sh serves Podman. */
export const PODMAN_DEFAULT_HOST = 'unix:///run/bosun-podman/podman.sock';

export function createEngine(config: EngineConfig = {}): ContainerEngine {
  if (config.kind === 'fake') return new FakeEngine(config.fake);
  switch (config.kind ?? 'docker') {
    case 'docker':
      return new DockerEngine(config.host ? { host: config.host } : {});
    case 'podman':
      return new DockerEngine({ host: config.host ?? PODMAN_DEFAULT_HOST, flavour: 'podman' });
  }
}
