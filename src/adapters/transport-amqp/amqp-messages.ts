/** amqplib's message shapes ↔ bosun's: an InboundMessage from a delivery, publish properties from PublishOptions. */
import type { ConsumeMessage, Options } from 'amqplib';
import type { InboundMessage, PublishOptions } from '../../ports/transport.js';

export function toInbound(channel: string, m: ConsumeMessage, settle: Pick<InboundMessage, 'ack' | 'nack'>): InboundMessage {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.properties.headers ?? {})) if (v !== undefined && v !== null) headers[k] = String(v);
  return {
    channel,
    body: m.content,
    headers,
    redelivered: m.fields.redelivered,
    ...(m.properties.messageId ? { messageId: String(m.properties.messageId) } : {}),
    ...(m.properties.correlationId ? { correlationId: String(m.properties.correlationId) } : {}),
    ...(m.properties.replyTo ? { replyTo: String(m.properties.replyTo) } : {}),
    ...(m.properties.userId ? { userId: String(m.properties.userId) } : {}),
    ...settle,
  };
}

export function publishProperties(opts: PublishOptions): Options.Publish {
  return {
    persistent: true,
    contentType: 'application/json',
    ...(opts.correlationId ? { correlationId: opts.correlationId } : {}),
    ...(opts.replyTo ? { replyTo: opts.replyTo } : {}),
    ...(opts.messageId ? { messageId: opts.messageId } : {}),
    ...(opts.headers ? { headers: opts.headers } : {}),
    ...(opts.userId ? { userId: opts.userId } : {}),
  };
}
