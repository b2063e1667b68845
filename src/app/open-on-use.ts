/**
 * A WorkflowStore that opens its database at the first call that needs it. An agent that never
 * gets a workflow message then never pays for an embedded PGlite (initdb and migrations cost
 * seconds on a small machine, on every first start); `onOpen` starts what polls the store.
 */
import type { WorkflowStore } from '../ports/workflow-store.js';

export function openOnUse(kind: WorkflowStore['kind'], open: () => Promise<WorkflowStore>, onOpen: (store: WorkflowStore) => void): WorkflowStore {
  let opening: Promise<WorkflowStore> | undefined;
  let closed = false;
  const real = (): Promise<WorkflowStore> => {
    if (closed) return Promise.reject(new Error('the workflow store is closed'));
    opening ??= open().then(
      (s) => {
        onOpen(s);
        return s;
      },
      (e: unknown) => {
        opening = undefined; // the next workflow message tries again
        throw e;
      },
    );
    return opening;
  };
  const lazy = new Proxy({} as WorkflowStore, {
    get(_target, prop) {
      if (prop === 'kind') return kind;
      if (prop === 'then') return undefined; // not a thenable
      if (prop === 'close') {
        return async (): Promise<void> => {
          closed = true;
          if (opening) await (await opening).close();
        };
      }
      return async (...args: unknown[]): Promise<unknown> => {
        const store = await real();
        const method = Reflect.get(store, prop) as unknown;
        if (typeof method !== 'function') throw new TypeError(`workflow store has no method ${String(prop)}`);
        return (method as (...a: unknown[]) => unknown).apply(store, args);
      };
    },
  });
  return lazy;
}
