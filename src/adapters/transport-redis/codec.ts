/**
 * Stream entry <-> message mapping and raw reply parsing for the Redis transport.
 *
 * Entry fields: `body` (raw bytes), optional `reply_to`, `correlation_id`, `message_id`,
 * `headers` (JSON object of strings) and `redelivered` ("1" on an entry re-added by nack(requeue)).
 */
import type { InboundMessage, PublishOptions } from '../../ports/transport.js';

export interface StreamEntry {
  id: string;
  /** undefined when the entry was deleted while still pending (XREADGROUP 0 / XCLAIM report it so). */
  fields: Map<string, Buffer> | undefined;
}

type Arg = string | Buffer | number;

export function encodeFields(body: Buffer | string, opts: PublishOptions = {}, redelivered = false): Arg[] {
  const out: Arg[] = ['body', typeof body === 'string' ? Buffer.from(body, 'utf8') : body];
  if (opts.replyTo !== undefined) out.push('reply_to', opts.replyTo);
  if (opts.correlationId !== undefined) out.push('correlation_id', opts.correlationId);
  if (opts.messageId !== undefined) out.push('message_id', opts.messageId);
  if (opts.headers !== undefined && Object.keys(opts.headers).length > 0) out.push('headers', JSON.stringify(opts.headers));
  if (redelivered) out.push('redelivered', '1');
  return out;
}

const str = (v: unknown): string => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v));

function parseEntry(raw: unknown): StreamEntry | undefined {
  if (!Array.isArray(raw) || raw.length < 1) return undefined;
  const id = str(raw[0]);
  const list: unknown = raw[1];
  if (!Array.isArray(list)) return { id, fields: undefined };
  const fields = new Map<string, Buffer>();
  for (let i = 0; i + 1 < list.length; i += 2) {
    const v: unknown = list[i + 1];
    fields.set(str(list[i]), Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8'));
  }
  return { id, fields };
}

/** `[[id, [f, v, ...]], ...]` (XRANGE, XCLAIM, XAUTOCLAIM's second element). */
export function parseEntries(raw: unknown): StreamEntry[] {
  if (!Array.isArray(raw)) return [];
  const out: StreamEntry[] = [];
  for (const r of raw) {
    const e = parseEntry(r);
    if (e) out.push(e);
  }
  return out;
}

/** XREAD / XREADGROUP reply for a single stream: `[[key, entries]]` or null on timeout. */
export function parseRead(raw: unknown): StreamEntry[] {
  if (!Array.isArray(raw) || raw.length === 0) return [];
  const first: unknown = raw[0];
  return Array.isArray(first) ? parseEntries(first[1]) : [];
}

/** XAUTOCLAIM: `[next, entries]` (6.2) or `[next, entries, deletedIds]` (7.x). */
export function parseAutoclaim(raw: unknown): { next: string; entries: StreamEntry[]; deleted: string[] } {
  if (!Array.isArray(raw)) return { next: '0-0', entries: [], deleted: [] };
  const deleted: unknown = raw[2];
  return { next: str(raw[0]), entries: parseEntries(raw[1]), deleted: Array.isArray(deleted) ? deleted.map(str) : [] };
}

/** Flat `[k, v, k, v]` reply (XINFO) to a record. */
export function parseFlat(raw: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!Array.isArray(raw)) return out;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const v: unknown = raw[i + 1];
    out[str(raw[i])] = Buffer.isBuffer(v) ? v.toString('utf8') : v;
  }
  return out;
}

function parseHeaders(raw: Buffer | undefined): Record<string, string> {
  if (raw === undefined) return {};
  try {
    const parsed: unknown = JSON.parse(raw.toString('utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed)) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
    return out;
  } catch {
    return {};
  }
}

export interface Settle {
  ack(): Promise<void>;
  nack(opts: { requeue: boolean }): Promise<void>;
}

export function toInbound(channel: string, entry: StreamEntry & { fields: Map<string, Buffer> }, redelivered: boolean, settle: Settle): InboundMessage {
  const f = entry.fields;
  const opt = (k: string): string | undefined => f.get(k)?.toString('utf8');
  const msg: InboundMessage = {
    channel,
    body: f.get('body') ?? Buffer.alloc(0),
    messageId: opt('message_id') ?? entry.id,
    headers: parseHeaders(f.get('headers')),
    redelivered: redelivered || opt('redelivered') === '1',
    ack: () => settle.ack(),
    nack: (o) => settle.nack(o),
  };
  const corr = opt('correlation_id');
  if (corr !== undefined) msg.correlationId = corr;
  const replyTo = opt('reply_to');
  if (replyTo !== undefined) msg.replyTo = replyTo;
  return msg;
}

/** Publish options that reproduce an inbound entry (used to re-add on nack(requeue)). */
export function republishOptions(msg: InboundMessage): PublishOptions {
  const o: PublishOptions = { headers: msg.headers };
  if (msg.messageId !== undefined) o.messageId = msg.messageId;
  if (msg.correlationId !== undefined) o.correlationId = msg.correlationId;
  if (msg.replyTo !== undefined) o.replyTo = msg.replyTo;
  return o;
}

/** The smallest stream id strictly greater than `id` (for exclusive XRANGE starts on any Redis). */
export function nextId(id: string): string {
  const [ms, seq] = id.split('-');
  return `${ms ?? '0'}-${Number(seq ?? '0') + 1}`;
}

export function errMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
