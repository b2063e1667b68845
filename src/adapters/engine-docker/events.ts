import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { BosunError } from '../../domain/errors.js';
import type { EngineEvent } from '../../ports/engine.js';

interface ApiEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number | string;
}

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
  return {
    type: raw.Type ?? 'container',
    action: raw.Action ?? raw.status ?? 'unknown',
    id: raw.Actor?.ID ?? raw.id ?? '',
    timeNano,
    attributes: raw.Actor?.Attributes ?? {},
  };
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
