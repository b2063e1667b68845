/**
 * Glue's own plain types. Handlers see containers as `GlueContainer` (a flattened,
 * engine-independent view of a running container) and events as `GlueEvent`.
 */
import type { Logger } from '../util/log.js';

export interface GlueContainer {
  id: string;
  name: string;
  image: string;
  labels: Record<string, string>;
  /** Network name → IP address (empty string when the container has none there). */
  networks: Record<string, string>;
  /** Exposed container ports as "80/tcp". */
  exposedPorts: string[];
}

/**
 * One container event as glue dispatches it. `none` is seed 004's dummy event, fired at
 * start-up (and after events when a handler has triggers-none); `resync` is a periodic or
 * after-reconnect full re-read that state handlers receive so missed events are repaired.
 */
export interface GlueEvent {
  event: string;
  /** Empty for `none` and `resync`. */
  containerId: string;
  timeNano?: bigint;
  attributes?: Record<string, string>;
}

export interface HandlerContext {
  event: GlueEvent;
  /** The running containers, listed once after the latest event (shared by all handlers). */
  snapshot(): Promise<GlueContainer[]>;
  signal: AbortSignal;
  log: Logger;
}

/**
 * - `state` handlers (haproxy, etcd) rebuild from the full snapshot: queued events
 *   collapse into one run with the latest state.
 * - `event` handlers (script, plugin, broker) see every matching event, in order.
 */
export type HandlerKind = 'state' | 'event';

export interface GlueHandler {
  readonly kind: HandlerKind;
  handle(ctx: HandlerContext): Promise<void>;
  close?(): Promise<void>;
}

/** A handler as configured in one file of the config dir. */
export interface HandlerConfig {
  /** File name without extension, used in logs. */
  name: string;
  file: string;
  /** bosun handler type: haproxy, etcd, script, plugin, broker. */
  type: HandlerType;
  /** Event names; `all` = every container event (not `none`); `none` = the start-up dummy event. */
  events: string[];
  enabled: boolean;
  triggersNone: boolean;
  /** Free-form params, keys normalised to lower case with `-` → `_`. */
  params: Record<string, string>;
  /** Directory of the config file, for resolving relative paths. */
  dir: string;
}

export const HANDLER_TYPES = ['haproxy', 'etcd', 'script', 'plugin', 'broker'] as const;
export type HandlerType = (typeof HANDLER_TYPES)[number];
