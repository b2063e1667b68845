/**
 * Defaults the commands take from the environment, read when a command runs (not when it is
 * registered): `--help` and the README's generated reference then show no one's settings, and
 * never a token. An empty variable counts as unset (a compose file's `${VAR}` left blank).
 */
import { DEFAULT_BROKER_URL } from '../adapters/transport-factory.js';

/** `--broker`, else BOSUN_BROKER_URL, else BOSUN_BROKER (the cluster commands' first spelling), else the local RabbitMQ. */
export function brokerUrlOf(flag: string | undefined): string {
  return flag ?? (process.env.BOSUN_BROKER_URL || undefined) ?? (process.env.BOSUN_BROKER || undefined) ?? DEFAULT_BROKER_URL;
}
