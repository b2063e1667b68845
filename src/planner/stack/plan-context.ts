/** What the stack planner's steps share: the pass's inputs, indexes over them, action kinds. */
import type { DesiredStack, ObservedContainer, ObservedState, StackActionName, StackOptions } from '../../domain/stack.js';

export const UP_ACTIONS: ReadonlySet<StackActionName> = new Set(['create', 'start', 'startup', 'update', 'pull']);
export const DOWN_ACTIONS: ReadonlySet<StackActionName> = new Set(['stop', 'remove', 'shutdown']);

export interface Ctx {
  stack: DesiredStack;
  observed: ObservedState;
  opts: StackOptions;
  byName: Map<string, ObservedContainer>;
  /** service → services depending on it with compose `restart: true` / legacy links */
  restartDependents: Map<string, string[]>;
  linkDependents: Map<string, string[]>;
  completedOnceServices: Set<string>;
}

export const isUp = (o: ObservedContainer | undefined) => o !== undefined && (o.state.running || o.state.status === 'restarting' || o.state.status === 'paused');
