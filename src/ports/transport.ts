/**
 * Transport: the broker port. A "channel" is a named durable queue (AMQP) or stream
 * (Redis). Every adapter passes test/contracts/transport.contract.ts.
 *
 * Delivery is at-least-once: a message stays owned by the broker until `ack()`.
 * `publish` resolves only when the broker has durably accepted the message
 * (AMQP publisher confirm / Redis XADD reply).
 */

export interface InboundMessage {
  channel: string;
  body: Buffer;
  /** Broker-assigned or publisher-given id; stable across redeliveries. */
  messageId?: string;
  correlationId?: string;
  /** Where the sender wants a reply (AMQP reply_to / a `reply_to` stream field). */
  replyTo?: string;
  headers: Record<string, string>;
  /**
   * The publisher, as the broker vouches for it: AMQP's `user_id` property, which RabbitMQ
   * checks against the connection's user (absent = the publisher did not say). Redis: never set
   * (consumers cannot see the ACL user that wrote an entry).
   */
  userId?: string;
  /** True when the broker has delivered this message before (crash, nack, timeout). */
  redelivered: boolean;
  ack(): Promise<void>;
  /** requeue=false drops it (the caller must have parked it elsewhere first). */
  nack(opts: { requeue: boolean }): Promise<void>;
}

export type MessageHandler = (msg: InboundMessage) => Promise<void>;

export interface ConsumeOptions {
  /** Most messages handed out and not yet acked, on this subscription. */
  prefetch: number;
  /** Extra AMQP binding of the channel's queue to an exchange (e.g. seed 001's co_topic). */
  bind?: { exchange: string; type: 'direct' | 'topic' | 'fanout'; routingKey: string };
  /** An exclusive, auto-deleted queue/stream consumer (replies, temporary listeners). */
  ephemeral?: boolean;
}

export interface PublishOptions {
  correlationId?: string;
  replyTo?: string;
  messageId?: string;
  headers?: Record<string, string>;
  /** AMQP user_id: must be the user this transport connects as (RabbitMQ refuses anything else). */
  userId?: string;
  /** Make sure the destination queue exists and is durable before publishing (no reply is lost). */
  declare?: boolean;
}

export interface Subscription {
  /** Stops taking new messages; in-flight ones can still be acked. */
  cancel(): Promise<void>;
}

export interface Transport {
  readonly kind: 'amqp' | 'redis';
  /** The broker user this transport connects as, when the broker reports publishers (AMQP). */
  readonly identity?: string;
  connect(): Promise<void>;
  /** Declares the channel durably (idempotent). */
  declareChannel(channel: string): Promise<void>;
  consume(channel: string, handler: MessageHandler, opts: ConsumeOptions): Promise<Subscription>;
  /** To a channel (queue/stream) by name. */
  publish(channel: string, body: Buffer | string, opts?: PublishOptions): Promise<void>;
  /** To a routed exchange: `bosun` topic exchange by default (events, notices). */
  publishRouted(exchange: string, routingKey: string, body: Buffer | string, opts?: PublishOptions): Promise<void>;
  /** Number of ready messages waiting on a channel (for tests, metrics, `bosun send`). */
  depth(channel: string): Promise<number>;
  /** Resolves when the connection is up again after a loss; used by health checks. */
  isConnected(): boolean;
  close(): Promise<void>;
}

/** The topic exchange every channel queue is also bound to. */
export const BOSUN_EXCHANGE = 'bosun';
/** Durable parking queue for every rejected message. */
export const ERRORS_CHANNEL = 'bosun.errors';
