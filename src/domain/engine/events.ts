/**
 * Engine events in bosun's vocabulary. The adapter maps the engine's own names (Docker's
 * "start", "die", "health_status: healthy" …) to these; nothing outside the adapter knows them.
 */
import type { CallOptions } from './call.js';

export type EngineResource = 'container' | 'image' | 'network' | 'volume' | 'other';

export type EngineEventKind =
  | 'created'
  | 'started'
  | 'died'
  | 'stopped'
  | 'killed'
  | 'destroyed'
  | 'paused'
  | 'unpaused'
  | 'restarted'
  | 'renamed'
  | 'oom'
  | 'health'
  /** network: a container joined / left it (`containerId`). */
  | 'connected'
  | 'disconnected'
  | 'other';

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy' | 'none';

export interface EngineEvent {
  resource: EngineResource;
  kind: EngineEventKind;
  /** The object's id (a container's, a network's …). */
  id: string;
  /** The container's (or object's) name when the engine says it. */
  name?: string;
  /** `died`: the exit code. */
  exitCode?: number;
  /** `health`: the new status. */
  health?: HealthStatus;
  /** `connected` / `disconnected`: the container that joined or left. */
  containerId?: string;
  /** Unix time in nanoseconds, the resume point for `sinceNano`. */
  timeNano: bigint;
  /** kind `other`: the engine's own name of the event — to show it, never to decide on it. */
  engineAction?: string;
  /** What the engine attached to the event (for containers: its labels, name, image …). */
  attributes: Record<string, string>;
}

export interface EventsRequest extends CallOptions {
  /** Resume point: unix time in nanoseconds of the last event seen. */
  sinceNano?: bigint;
  resources?: EngineResource[];
  labels?: Record<string, string | true>;
  signal: AbortSignal;
}
