/**
 * The one read glue does: list the running containers (one engine call) and flatten them
 * into GlueContainers. Cached per event generation and single-flight, so a burst of
 * events and several handlers share as few list calls as possible.
 */
import type { ContainerEngine } from '../ports/engine.js';
import type { ContainerSummary } from '../domain/engine/index.js';
import type { GlueContainer } from './types.js';

export function toGlueContainer(s: ContainerSummary): GlueContainer {
  return {
    id: s.id,
    name: s.name,
    image: s.image,
    labels: s.labels,
    networks: { ...s.networks },
    exposedPorts: [...new Set(s.ports.map((p) => `${p.privatePort}/${p.type}`))],
  };
}

export class SnapshotCache {
  private generation = 0;
  /**
   * Containers whose last event was `die`. Docker may still list a container as running for
   * a moment after its die event (until the stop finishes); trusting the event takes it out
   * of the rotation ~100 ms sooner. A later `start` (restart) or `destroy` forgets it.
   */
  private readonly died = new Set<string>();
  private cached: { generation: number; value: Promise<GlueContainer[]> } | undefined;
  lists = 0;

  constructor(
    private readonly engine: ContainerEngine,
    private readonly labels: Record<string, string | true> | undefined,
  ) {}

  /** Called on every event: the next `get()` lists again. */
  invalidate(ev?: { event: string; containerId: string }): void {
    this.generation++;
    if (!ev?.containerId) return;
    if (ev.event === 'die') this.died.add(ev.containerId);
    else if (ev.event === 'start' || ev.event === 'destroy') this.died.delete(ev.containerId);
  }

  get(): Promise<GlueContainer[]> {
    if (this.cached && this.cached.generation === this.generation) return this.cached.value;
    const generation = this.generation;
    this.lists++;
    const value = this.engine.containers.list({ ...(this.labels ? { labels: this.labels } : {}) }).then(
      (list) => {
        const running = list.filter((c) => c.status === 'running');
        // Once Docker no longer lists a died container as running, the override is not needed.
        const listed = new Set(running.map((c) => c.id));
        for (const id of this.died) if (!listed.has(id)) this.died.delete(id);
        return running.filter((c) => !this.died.has(c.id)).map(toGlueContainer);
      },
    );
    // A failed list must not stick: the retry lists again.
    value.catch(() => {
      if (this.cached?.value === value) this.cached = undefined;
    });
    this.cached = { generation, value };
    return value;
  }
}
