/** Walking a definition's nested scopes (top level, Parallel branches, Map processors). */
import { isObject, type Json, type JsonObject } from './json.js';

export interface Scope {
  StartAt: string;
  States: Record<string, JsonObject>;
  QueryLanguage?: string;
}

export interface Located {
  name: string;
  state: JsonObject;
  /** The scope holding the state. */
  scope: Scope;
  /** Path of the state inside the definition, e.g. ['States','P','Branches',0,'States','B']. */
  path: (string | number)[];
}

/** The child scopes a Parallel or Map state runs. */
export function childScopes(state: JsonObject): { scope: Scope; path: (string | number)[] }[] {
  if (state.Type === 'Parallel' && Array.isArray(state.Branches)) {
    return state.Branches.filter(isObject).map((b, i) => ({ scope: b as unknown as Scope, path: ['Branches', i] }));
  }
  if (state.Type === 'Map') {
    const key = isObject(state.ItemProcessor) ? 'ItemProcessor' : isObject(state.Iterator) ? 'Iterator' : undefined;
    if (key) return [{ scope: state[key] as unknown as Scope, path: [key] }];
  }
  return [];
}

export function walkStates(root: Scope, visit: (l: Located) => void, base: (string | number)[] = []): void {
  const states: Record<string, Json> = isObject(root.States) ? root.States : {};
  for (const [name, state] of Object.entries(states)) {
    if (!isObject(state)) continue;
    const path = [...base, 'States', name];
    visit({ name, state, scope: root, path });
    for (const c of childScopes(state)) if (isObject(c.scope)) walkStates(c.scope, visit, [...path, ...c.path]);
  }
}

/** Every state by name (ASL requires names unique across the whole machine). */
export function indexStates(root: Scope): Map<string, Located> {
  const out = new Map<string, Located>();
  walkStates(root, (l) => { if (!out.has(l.name)) out.set(l.name, l); });
  return out;
}
