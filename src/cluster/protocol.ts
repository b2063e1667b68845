/**
 * The cluster's broker protocol. Server → node on the `co_topic` exchange with the node
 * name as routing key (queue `co_node_<name>`, as seed 001); node → server on one
 * reports channel. Every message is validated at the border; a bad one is parked, never fatal.
 */
import { z } from 'zod';
import { BosunError } from '../domain/errors.js';
import type { Transport } from '../ports/transport.js';
import type { Sealer } from './seal.js';

export const NODE_EXCHANGE = 'co_topic';
export const REPORTS_CHANNEL = 'bosun.cluster.reports';
export const nodeQueue = (node: string): string => `co_node_${node}`;

/**
 * AMQP: through the exchange by routing key (seed 001). Redis has no exchanges: straight to the node's stream.
 * Sealed for that node alone (see seal.ts): a node refuses orders that are not.
 */
export function sendToNode(transport: Transport, sealer: Sealer, node: string, msg: ToNodeMessage): Promise<void> {
  const body = sealer.seal(node, msg);
  return transport.kind === 'amqp' ? transport.publishRouted(NODE_EXCHANGE, node, body) : transport.publish(nodeQueue(node), body);
}

/** Names that are safe as Docker names, queue names and routing keys (seed 001 had shell injection here). */
export const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
export const nameSchema = z.string().regex(NAME_RE, 'letters, digits, "_", "." and "-" only, at most 63, starting with a letter or digit');

export const resourcesSchema = z.strictObject({
  cpu: z.number().min(0),
  memMb: z.number().min(0),
  diskMb: z.number().min(0),
});

/** "containerPort", "hostPort:containerPort", "hostIp:hostPort:containerPort" or "hostIp::containerPort", each with an optional "/tcp" | "/udp". */
export const PORT_RE = /^(?:(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):(?:\d{1,5})?:|\d{1,5}:)?\d{1,5}(?:\/(?:tcp|udp))?$/;
/** "/host/path:/in/container[:ro|rw]" (a bind, policy-checked on the node) or "volume-name:/in/container[:ro|rw]". */
export const VOLUME_RE = /^(?:\/[^:\0]*|[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}):\/[^:\0]*(?::(?:ro|rw))?$/;

// strict everywhere: an unknown or misspelled field is an error naming it, never silently dropped
export const containerTemplateSchema = z.strictObject({
  name: nameSchema,
  image: z.string().min(1).max(512),
  env: z.array(z.string().regex(/^[^=]+=/, 'KEY=value')).max(256).optional(),
  cmd: z.array(z.string()).max(256).optional(),
  ports: z.array(z.string().regex(PORT_RE, '"[hostIp:]hostPort:containerPort[/proto]"')).max(64).optional(),
  volumes: z.array(z.string().regex(VOLUME_RE, '"/host/path:/container/path[:ro|rw]" or "volume:/container/path[:ro|rw]"')).max(64).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  resources: resourcesSchema.optional(),
});

export const runMessage = z.strictObject({
  type: z.literal('run'),
  service: nameSchema,
  slot: z.number().int().min(0),
  generation: z.number().int().min(1),
  specVersion: z.number().int().min(1),
  container: containerTemplateSchema,
});

export const stopMessage = z.strictObject({
  type: z.literal('stop'),
  service: nameSchema,
  slot: z.number().int().min(0),
  /** Stops this generation and every older one of the slot. */
  generation: z.number().int().min(1),
  reason: z.string().optional(),
});

export const toNodeMessage = z.discriminatedUnion('type', [runMessage, stopMessage]);
export type RunMessage = z.infer<typeof runMessage>;
export type StopMessage = z.infer<typeof stopMessage>;
export type ToNodeMessage = z.infer<typeof toNodeMessage>;

export const reportedContainerSchema = z.strictObject({
  service: z.string(),
  slot: z.number().int().min(0),
  generation: z.number().int().min(0),
  status: z.string(),
  exitCode: z.number().int().optional(),
  error: z.string().optional(),
});

export const heartbeatMessage = z.strictObject({
  type: z.literal('heartbeat'),
  node: nameSchema,
  sentAt: z.number(),
  /** The heartbeat interval the node uses (so the server can judge lateness). */
  intervalMs: z.number().int().min(1),
  labels: z.record(z.string(), z.string()),
  free: resourcesSchema,
  /** Every bosun container on the node: a full re-read that repairs missed events. */
  containers: z.array(reportedContainerSchema),
});

export const replicaMessage = z.strictObject({
  type: z.literal('replica'),
  node: nameSchema,
  sentAt: z.number(),
  container: reportedContainerSchema,
});

export const toServerMessage = z.discriminatedUnion('type', [heartbeatMessage, replicaMessage]);
export type HeartbeatMessage = z.infer<typeof heartbeatMessage>;
export type ReplicaMessage = z.infer<typeof replicaMessage>;
export type ToServerMessage = z.infer<typeof toServerMessage>;

/** Parses and validates; throws BosunError(bad_json | invalid_message) naming the field. */
export function parseMessage<T>(schema: z.ZodType<T>, body: Buffer | string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString());
  } catch (e) {
    throw new BosunError('bad_json', `message is not JSON: ${(e as Error).message}`);
  }
  const r = schema.safeParse(raw);
  if (!r.success) throw zodToBosun(r.error);
  return r.data;
}

/** The issue's path, plus the offending key for an unknown field (zod puts that in `keys`, not the path). */
function issuePath(i: z.core.$ZodIssue): string {
  const path = i.path.map(String);
  if (i.code === 'unrecognized_keys' && i.keys[0] !== undefined) path.push(i.keys[0]);
  return path.join('.');
}

export function zodToBosun(err: z.ZodError): BosunError {
  const first = err.issues[0];
  const field = first ? issuePath(first) || undefined : undefined;
  const what = first?.code === 'unrecognized_keys' ? `unknown field (${first.keys.join(', ')})` : first?.message;
  const message = first ? `${field ?? 'message'}: ${what}` : 'invalid message';
  return new BosunError('invalid_message', message, { ...(field ? { field } : {}), details: err.issues.slice(0, 5).map((i) => ({ path: issuePath(i), message: i.message })) });
}
