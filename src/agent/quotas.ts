/**
 * Run quotas, checked by the agent before a run's handler: runs per minute per publisher (an
 * in-memory sliding window: per agent process, reset on restart) and running detached
 * containers, all publishers together and per publisher — counted from Docker (running
 * containers labelled bosun.run=detached), plus detached runs this agent has admitted whose
 * container Docker does not list yet, so a burst cannot slip past the count.
 */
import { BosunError } from '../domain/errors.js';
import { LABEL } from '../domain/labels.js';
import type { Quotas } from '../domain/policy/schema.js';
import type { ContainerEngine } from '../ports/engine.js';

export type RunKind = 'attached' | 'detached';

interface RunLike {
  dockercmd?: unknown;
  options?: { attach?: unknown; remove?: unknown };
}

/** Which messages start a container run, and of which kind (mirrors the handlers' choice). */
export function runKindOf(channel: string, input: unknown): RunKind | undefined {
  if (channel === 'start_container.create') return 'detached';
  if (channel === 'start_container.response_channel') return 'attached';
  if (channel !== 'dispatch' || typeof input !== 'object' || input === null) return undefined;
  const d = input as RunLike;
  if (d.dockercmd !== 'run') return undefined;
  const attach = Array.isArray(d.options?.attach) ? (d.options.attach as unknown[]) : [];
  return attach.includes('STDOUT') || attach.includes('STDERR') || d.options?.remove === true ? 'attached' : 'detached';
}

const WINDOW_MS = 60_000;
const ANONYMOUS = '';

export class RunQuotas {
  private readonly starts = new Map<string, number[]>();
  /** Admitted detached runs still in their handler: request id → publisher. */
  private readonly pending = new Map<string, string>();

  constructor(private readonly engine: ContainerEngine, private readonly now: () => number) {}

  /**
   * Throws quota_exceeded (not retryable: the sender decides when to try again) or admits the
   * run; the returned release must be called when its handler finishes.
   */
  async admit(q: Quotas, publisher: string | undefined, requestId: string, kind: RunKind, repeat: boolean): Promise<() => void> {
    const who = publisher ?? ANONYMOUS;
    if (!repeat) this.checkRate(q, who);
    if (kind === 'detached') await this.checkRunning(q, who, requestId);
    if (!repeat) this.record(who);
    if (kind !== 'detached') return () => undefined;
    this.pending.set(requestId, who);
    return () => this.pending.delete(requestId);
  }

  private checkRate(q: Quotas, who: string): void {
    if (q.runs_per_minute === undefined) return;
    const cutoff = this.now() - WINDOW_MS;
    const recent = (this.starts.get(who) ?? []).filter((t) => t > cutoff);
    this.starts.set(who, recent);
    if (recent.length >= q.runs_per_minute) {
      throw refuse('runs_per_minute', `publisher ${label(who)} started ${recent.length} runs in the last minute; the quota is ${q.runs_per_minute}`);
    }
  }

  private record(who: string): void {
    const list = this.starts.get(who) ?? [];
    list.push(this.now());
    this.starts.set(who, list);
    if (this.starts.size > 10_000) this.starts.delete(this.starts.keys().next().value as string);
  }

  private async checkRunning(q: Quotas, who: string, requestId: string): Promise<void> {
    if (q.max_running_detached === undefined && q.max_running_detached_per_publisher === undefined) return;
    const running = await this.engine.containers.list({ all: false, status: ['running'], labels: { [LABEL.managed]: 'true', [LABEL.run]: 'detached' } });
    // The container of this very request (a redelivery) or of a pending run is counted once.
    const listed = running.filter((c) => c.labels[LABEL.request] !== requestId && !this.pending.has(c.labels[LABEL.request] ?? ''));
    const pending = [...this.pending].filter(([id]) => id !== requestId);
    const total = listed.length + pending.length;
    if (q.max_running_detached !== undefined && total >= q.max_running_detached) {
      throw refuse('max_running_detached', `${total} detached containers are running; the quota for all publishers is ${q.max_running_detached}`);
    }
    const mine = listed.filter((c) => (c.labels[LABEL.publisher] ?? ANONYMOUS) === who).length + pending.filter(([, p]) => p === who).length;
    if (q.max_running_detached_per_publisher !== undefined && mine >= q.max_running_detached_per_publisher) {
      throw refuse('max_running_detached_per_publisher', `publisher ${label(who)} has ${mine} detached containers running; the quota is ${q.max_running_detached_per_publisher}`);
    }
  }
}

function label(who: string): string {
  return who === ANONYMOUS ? '(no user id)' : JSON.stringify(who);
}

function refuse(quota: string, message: string): BosunError {
  return new BosunError('quota_exceeded', message, { field: `quotas.${quota}`, retryable: false, details: { quota } });
}
