/**
 * Defaults the commands take from the environment, read when a command runs (not when it is
 * registered): `--help` and the README's generated reference then show no one's settings, and
 * never a token.
 */
import { DEFAULT_BROKER_URL } from '../adapters/transport-factory.js';

/** `--broker`, else BOSUN_BROKER_URL, else BOSUN_BROKER (the cluster commands' first spelling), else the local RabbitMQ. */
export function brokerUrlOf(flag: string | undefined): string {
  return flag ?? process.env.BOSUN_BROKER_URL ?? process.env.BOSUN_BROKER ?? DEFAULT_BROKER_URL;
}

/** The engine of `--docker-host` (else the engine adapter reads DOCKER_HOST, else the local socket). */
export function engineHostOf(flag: string | undefined): { host?: string } {
  return flag ? { host: flag } : {};
}

/** `--log-level`, else BOSUN_LOG_LEVEL, else the command's own default. */
export function logLevelOf(flag: string | undefined, fallback: string): string {
  return flag ?? process.env.BOSUN_LOG_LEVEL ?? fallback;
}
