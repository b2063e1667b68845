/** Networks and volumes, and the engine's identity. */
import type { ContainerStatus } from './container.js';

export interface EngineInfo {
  id: string;
  name: string;
  serverVersion: string;
  apiVersion: string;
  cpus: number;
  memoryBytes: number;
  capabilities: EngineCapabilities;
}

/** What this engine can do that others cannot (Podman 4.3 cannot update a container's limits in place). */
export interface EngineCapabilities {
  inPlaceUpdate: boolean;
}

export interface NetworkSpec {
  name: string;
  driver?: string;
  internal?: boolean;
  labels?: Record<string, string>;
}


export interface VolumeDetails {
  name: string;
  labels: Record<string, string>;
}

export interface ListFilter {
  all?: boolean;
  /** label → value, or `true` for "has the label". */
  labels?: Record<string, string | true>;
  /** The engine's name filter (substring/regex as the engine applies it). */
  name?: string;
  status?: ContainerStatus[];
}
