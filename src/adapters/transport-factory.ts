/** Picks the transport adapter from the broker URL's scheme: amqp(s):// or redis(s)://. */
import { BosunError } from '../domain/errors.js';
import type { Transport } from '../ports/transport.js';
import type { Logger } from '../util/log.js';
import { AmqpTransport } from './transport-amqp/amqp-transport.js';
import { RedisTransport } from './transport-redis/redis-transport.js';

export const DEFAULT_BROKER_URL = 'amqp://guest:guest@127.0.0.1:5672';

export async function createTransport(url: string, log: Logger): Promise<Transport> {
  const scheme = url.split(':', 1)[0]?.toLowerCase();
  if (scheme === 'amqp' || scheme === 'amqps') return new AmqpTransport(url, log);
  if (scheme === 'redis' || scheme === 'rediss') {
    return new RedisTransport(url, log);
  }
  throw new BosunError('invalid_message', `broker URL must start with amqp:// or redis://, got "${url}"`, { field: 'broker' });
}
