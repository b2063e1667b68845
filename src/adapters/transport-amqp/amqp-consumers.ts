/**
 * The per-message halves of the AMQP transport: a consumer's queue set-up, delivery of one
 * message to its handler with ack/nack that a reconnect cannot misdirect, and one confirmed publish.
 */
import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { BosunError } from '../../domain/errors.js';
import { BOSUN_EXCHANGE, type ConsumeOptions, type MessageHandler, type PublishOptions } from '../../ports/transport.js';
import type { Logger } from '../../util/log.js';
import { publishProperties, toInbound } from './amqp-messages.js';

export interface ConsumerRecord {
  channel: string;
  handler: MessageHandler;
  opts: ConsumeOptions;
  amqpChannel?: Channel;
  consumerTag?: string;
  cancelled: boolean;
  /** A startConsumer is under way. */
  starting?: boolean;
  /** Counts startConsumer attempts (a failed one clears the channel only if it is still the latest). */
  attempts?: number;
}

/** Declares the consumer's queue (durable and bound to the bosun exchange, or ephemeral) and its prefetch. */
export async function declareConsumerQueue(ch: Channel, rec: ConsumerRecord): Promise<void> {
  if (rec.opts.ephemeral) {
    await ch.assertQueue(rec.channel, { durable: false, exclusive: true, autoDelete: true });
  } else {
    await ch.assertQueue(rec.channel, { durable: true });
    await ch.bindQueue(rec.channel, BOSUN_EXCHANGE, rec.channel);
  }
  if (rec.opts.bind) {
    await ch.assertExchange(rec.opts.bind.exchange, rec.opts.bind.type, { durable: true });
    await ch.bindQueue(rec.channel, rec.opts.bind.exchange, rec.opts.bind.routingKey);
  }
  await ch.prefetch(rec.opts.prefetch);
}

export async function deliver(rec: ConsumerRecord, ch: Channel, m: ConsumeMessage, log: Logger): Promise<void> {
  let settled = false;
  const settle = (fn: () => void) => {
    if (settled) return;
    settled = true;
    // After a reconnect the delivery tag belongs to a dead channel: the broker redelivers the message.
    if (rec.amqpChannel !== ch) return;
    try {
      fn();
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'amqp ack/nack failed; the message will be redelivered');
    }
  };
  const msg = toInbound(rec.channel, m, {
    ack: async () => settle(() => ch.ack(m)),
    nack: async ({ requeue }) => settle(() => ch.nack(m, false, requeue)),
  });
  try {
    await rec.handler(msg);
  } catch (e) {
    log.error({ err: (e as Error).message, channel: rec.channel }, 'handler threw; requeueing');
    await msg.nack({ requeue: true });
  }
}

export function publishOnce(ch: ConfirmChannel, exchange: string, routingKey: string, content: Buffer, opts: PublishOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    try {
      ch.publish(
        exchange,
        routingKey,
        content,
        publishProperties(opts),
        (err: unknown) => (err ? reject(new BosunError('broker_error', `publish to ${routingKey} not confirmed`, { cause: err })) : resolve()),
      );
    } catch (e) {
      reject(new BosunError('broker_error', `publish to ${routingKey} failed: ${(e as Error).message}`, { cause: e }));
    }
  });
}
