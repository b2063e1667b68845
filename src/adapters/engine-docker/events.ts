/** Docker's event stream, read and mapped to bosun's EngineEvent (the only place Docker's event names live). */
import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { BosunError } from '../../domain/errors.js';
import type { EngineEvent, EngineEventKind, EngineResource, EventsRequest, HealthStatus } from '../../domain/engine/index.js';
import type { EventsApi } from '../../ports/engine.js';
import { engineError } from './errors.js';
import { labelFilters } from './mapping.js';

interface ApiEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number | string;
}

const KIND_OF: Record<string, EngineEventKind> = {
  create: 'created',
  start: 'started',
  die: 'died',
  stop: 'stopped',
  kill: 'killed',
  destroy: 'destroyed',
  pause: 'paused',
  unpause: 'unpaused',
  restart: 'restarted',
  rename: 'renamed',
  oom: 'oom',
  health_status: 'health',
  connect: 'connected',
  disconnect: 'disconnected',
};

const RESOURCES: ReadonlySet<string> = new Set<EngineResource>(['container', 'image', 'network', 'volume']);
const HEALTH: ReadonlySet<string> = new Set<HealthStatus>(['starting', 'healthy', 'unhealthy', 'none']);

/** Parses one line of Docker's event stream; tolerant of events without `status` (seed 004 crashed on those). */
export function parseEventLine(line: string): EngineEvent | undefined {
  if (!line.trim()) return undefined;
  let raw: ApiEvent;
  try {
    raw = JSON.parse(line) as ApiEvent;
  } catch {
    return undefined;
  }
  // timeNano (~1.8e18) is beyond 2^53: JSON.parse rounds it, so read the digits from the text.
  const exact = /"timeNano"\s*:\s*(\d+)/.exec(line)?.[1];
  const timeNano = exact !== undefined ? BigInt(exact) : raw.time !== undefined ? BigInt(raw.time) * 1_000_000_000n : 0n;
  const action = raw.Action ?? raw.status ?? 'unknown';
  // "health_status: healthy", "exec_start: sh -c …": the name is before ':', a detail after it.
  const [name = '', detail] = action.split(/:(.*)/s, 2).map((x) => x.trim());
  const kind = KIND_OF[name] ?? 'other';
  const attributes = raw.Actor?.Attributes ?? {};
  const type = raw.Type ?? 'container';
  const ev: EngineEvent = {
    resource: RESOURCES.has(type) ? (type as EngineResource) : 'other',
    kind,
    id: raw.Actor?.ID ?? raw.id ?? '',
    timeNano,
    attributes,
  };
  if (attributes.name !== undefined) ev.name = attributes.name;
  if (kind === 'other') ev.engineAction = name;
  if (kind === 'died' && attributes.exitCode !== undefined && /^-?\d+$/.test(attributes.exitCode)) ev.exitCode = Number(attributes.exitCode);
  if (kind === 'health' && detail && HEALTH.has(detail)) ev.health = detail as HealthStatus;
  if ((kind === 'connected' || kind === 'disconnected') && attributes.container) ev.containerId = attributes.container;
  return ev;
}

export async function* readEventStream(stream: Readable, signal: AbortSignal): AsyncIterable<EngineEvent> {
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  // readline only ends on 'end'; a destroyed or broken socket emits just 'close'.
  let broken: Error | undefined;
  stream.on('error', (e) => (broken = e));
  stream.on('close', () => lines.close());
  const onAbort = () => {
    lines.close();
    stream.destroy();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const line of lines) {
      const ev = parseEventLine(line);
      if (ev) yield ev;
    }
  } catch (e) {
    if (!signal.aborted) throw new BosunError('engine_unavailable', `event stream broke: ${(e as Error).message}`, { cause: e });
  } finally {
    signal.removeEventListener('abort', onAbort);
    lines.close();
    stream.destroy();
  }
  if (!signal.aborted) {
    throw new BosunError('engine_unavailable', `event stream ended${broken ? `: ${broken.message}` : ' (daemon restart?)'}`, { cause: broken });
  }
}

/** Docker's `since` takes "seconds.nanoseconds". Resuming one nanosecond after the last event seen. */
export function nanoToApiTime(nano: bigint): string {
  const next = nano + 1n;
  const sec = next / 1_000_000_000n;
  const frac = (next % 1_000_000_000n).toString().padStart(9, '0');
  return `${sec}.${frac}`;
}

export class DockerEvents implements EventsApi {
  constructor(private readonly docker: Docker) {}

  async *stream(req: EventsRequest): AsyncIterable<EngineEvent> {
    const filters: Record<string, string[]> = {};
    if (req.resources?.length) filters.type = req.resources.filter((r) => r !== 'other');
    const labels = labelFilters(req.labels);
    if (labels.length) filters.label = labels;
    let stream: Readable;
    try {
      stream = (await this.docker.getEvents({
        filters,
        ...(req.sinceNano !== undefined ? { since: nanoToApiTime(req.sinceNano) } : {}),
        abortSignal: req.signal,
      } as Docker.GetEventsOptions)) as unknown as Readable;
    } catch (e) {
      throw engineError(e, 'subscribe to events');
    }
    yield* readEventStream(stream, req.signal);
  }
}
