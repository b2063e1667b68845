/** AMQP name rules the transport checks before amqplib sees a publish. */
import { BosunError } from '../../domain/errors.js';
import type { PublishOptions } from '../../ports/transport.js';

/**
 * AMQP short strings hold 255 bytes. amqplib throws on a longer one after queueing the confirm
 * callback, which would misalign every later confirm on the channel; so it is refused here,
 * before the channel is touched, as the caller's fault (not retryable).
 */
export function checkShortStrings(routingKey: string, opts: PublishOptions): void {
  const fields: [string, string | undefined][] = [
    ['routing key', routingKey], ['message id', opts.messageId], ['correlation id', opts.correlationId], ['reply_to', opts.replyTo], ['user id', opts.userId],
    ...Object.keys(opts.headers ?? {}).map((k): [string, string] => ['header name', k]),
  ];
  for (const [what, v] of fields) {
    if (v !== undefined && Buffer.byteLength(v) > 255) {
      throw new BosunError('invalid_message', `cannot publish: the ${what} is ${Buffer.byteLength(v)} bytes; AMQP allows 255`, { retryable: false });
    }
  }
}

/** The user an amqp:// URL logs in as. */
export function amqpUser(url: string): string {
  try {
    const u = new URL(url);
    return u.username ? decodeURIComponent(u.username) : 'guest';
  } catch {
    return 'guest';
  }
}
