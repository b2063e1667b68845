/**
 * The cluster's broker protocol. Server → node on the `co_topic` exchange with the node
 * name as routing key (queue `co_node_<name>`, as seed 001); node → server on one
 * reports channel. Every message is validated at the border; a bad one is parked, never fatal.
 */
import { z } from 'zod';
import { BosunError } from '../domain/errors.js';
import type { Transport } from '../ports/transport.js';

export const NODE_EXCHANGE = 'co_topic';
export const REPORTS_CHANNEL = 'bosun.cluster.reports';
export const nodeQueue = (node: string): string => `co_node_${node}`;

/** AMQP: through the exchange by routing key (seed 001). Redis has no exchanges: straight to the node's stream. */
export function sendToNode(transport: Transport, node: string, msg: ToNodeMessage): Promise<void> {
  const body = JSON.stringify(msg);
  return transport.kind === 'amqp' ? transport.publishRouted(NODE_EXCHANGE, node, body) : transport.publish(nodeQueue(node), body);
}

/** Names that are safe as Docker names, queue names and routing keys (seed 001 had shell injection here). */
export const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
export const nameSchema = z.string().regex(NAME_RE, 'letters, digits, "_", "." and "-" only, at most 63, starting with a letter or digit');

export const resourcesSchema = z.object({
  cpu: z.number().min(0),
  memMb: z.number().min(0),
  diskMb: z.number().min(0),
});

export const containerTemplateSchema = z.object({
  name: nameSchema,
  image: z.string().min(1).max(512),
  env: z.array(z.string().regex(/^[^=]+=/, 'KEY=value')).optional(),
  cmd: z.array(z.string()).optional(),
  ports: z.array(z.string().regex(/^(\d{1,5}:)?\d{1,5}(\/(tcp|udp))?$/, '"hostPort:containerPort[/proto]"')).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  resources: resourcesSchema.optional(),
});

export const runMessage = z.object({
  type: z.literal('run'),
  service: nameSchema,
  slot: z.number().int().min(0),
  generation: z.number().int().min(1),
  specVersion: z.number().int().min(1),
  container: containerTemplateSchema,
});

export const stopMessage = z.object({
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

export const reportedContainerSchema = z.object({
  service: z.string(),
  slot: z.number().int().min(0),
  generation: z.number().int().min(0),
  status: z.string(),
  exitCode: z.number().int().optional(),
  error: z.string().optional(),
});

export const heartbeatMessage = z.object({
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

export const replicaMessage = z.object({
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

export function zodToBosun(err: z.ZodError): BosunError {
  const first = err.issues[0];
  const field = first && first.path.length > 0 ? first.path.map(String).join('.') : undefined;
  const message = first ? `${field ?? 'message'}: ${first.message}` : 'invalid message';
  return new BosunError('invalid_message', message, { ...(field ? { field } : {}), details: err.issues.slice(0, 5).map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) });
}
