/**
 * Channel → action. The agent consumes every channel listed here; adding a channel is one
 * action module and one line below. Actions that need more than the action context get it
 * from the dependencies given to the builder, once.
 */
import { closeContainer, containerStatus, removeContainer, restartContainer, startContainersNotRunning, stopContainer } from './container-lifecycle.js';
import { defineAction, onChannel } from './define.js';
import { dispatch } from './dispatch.js';
import { monitorAction } from './monitor.js';
import { stackAction } from './stack.js';
import { startContainerCreate, startContainerResponse } from './start-container.js';
import type { Action, ActionDeps, RunKind } from './types.js';

export type ActionRegistry = ReadonlyMap<string, Action>;

export interface RegistryOptions {
  /** Seed 003's -q: the queue dispatch messages arrive on. */
  dispatchQueue?: string;
  /** Further actions contributed by other areas (or tests). */
  extra?: Action[];
}

export function buildRegistry(deps: ActionDeps, opts: RegistryOptions = {}): ActionRegistry {
  return registryOf([
    defineAction(startContainerCreate),
    defineAction(startContainerResponse),
    defineAction(startContainersNotRunning),
    defineAction(monitorAction(deps.monitors)),
    defineAction(closeContainer),
    defineAction(stopContainer),
    defineAction(removeContainer),
    defineAction(restartContainer),
    defineAction(containerStatus),
    defineAction(onChannel(dispatch, opts.dispatchQueue)),
    defineAction(stackAction),
    ...(opts.extra ?? []),
  ]);
}

export function registryOf(actions: Action[]): ActionRegistry {
  const map = new Map<string, Action>();
  for (const a of actions) {
    if (map.has(a.channel)) throw new Error(`two actions claim channel ${a.channel}`);
    map.set(a.channel, a);
  }
  return map;
}

/**
 * Dependencies for a registry that is only read (schemas, docs), never run: any use of them
 * is a bug and says so.
 */
export const DESCRIBE_ONLY_DEPS: ActionDeps = {
  monitors: { add: () => Promise.reject(new Error('this registry only describes the channels; it has no monitor manager')) },
};

let described: ActionRegistry | undefined;

/** The run quota a message body on a channel counts against, as its action declares (invalid_message if it does not validate). */
export function runKindOf(channel: string, body: unknown, registry: ActionRegistry = (described ??= buildRegistry(DESCRIBE_ONLY_DEPS))): RunKind | undefined {
  return registry.get(channel)?.accept(body).runKind;
}
