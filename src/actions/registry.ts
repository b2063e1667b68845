/** Channel → action. The agent consumes every channel listed here. */
import type { MonitorManager } from '../agent/monitors.js';
import { closeContainer, containerStatus, removeContainer, restartContainer, startContainersNotRunning, stopContainer } from './container-lifecycle.js';
import { dispatch } from './dispatch.js';
import { monitorAction } from './monitor.js';
import { startContainerCreate, startContainerResponse } from './start-container.js';
import type { ActionDefinition } from './types.js';

export type ActionRegistry = ReadonlyMap<string, ActionDefinition>;

export interface RegistryOptions {
  monitors: MonitorManager;
  /** Seed 003's -q: the queue dispatch messages arrive on. */
  dispatchQueue?: string;
  /** Further actions (e.g. the stack channel) contributed by other areas. */
  extra?: ActionDefinition[];
}

export function buildRegistry(opts: RegistryOptions): ActionRegistry {
  const actions: ActionDefinition[] = [
    startContainerCreate,
    startContainerResponse,
    startContainersNotRunning,
    monitorAction(opts.monitors),
    closeContainer,
    stopContainer,
    removeContainer,
    restartContainer,
    containerStatus,
    opts.dispatchQueue ? { ...dispatch, channel: opts.dispatchQueue } : dispatch,
    ...(opts.extra ?? []),
  ] as ActionDefinition[];
  const map = new Map<string, ActionDefinition>();
  for (const a of actions) {
    if (map.has(a.channel)) throw new Error(`two actions claim channel ${a.channel}`);
    map.set(a.channel, a);
  }
  return map;
}
