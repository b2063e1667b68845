import { pino, type Logger } from 'pino';

export type { Logger };

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/**
 * The level: given (a command's --log-level), else BOSUN_LOG_LEVEL (empty = unset), else info.
 * An unknown one is refused by name, not left to pino's "default level: must be included".
 */
export function logLevelOf(given: string | undefined): string {
  const fromEnv = process.env.BOSUN_LOG_LEVEL || undefined;
  const level = given ?? fromEnv ?? 'info';
  if (!LEVELS.includes(level)) throw new Error(`${given !== undefined ? '--log-level' : 'BOSUN_LOG_LEVEL'}: "${level}" is not a log level (expected one of ${LEVELS.join(', ')})`);
  return level;
}

/** JSON logs by default; `pretty` (or BOSUN_LOG_PRETTY=1) for humans at a terminal. */
export function createLogger(opts: { name: string; level?: string | undefined; pretty?: boolean }): Logger {
  const pretty = opts.pretty ?? process.env.BOSUN_LOG_PRETTY === '1';
  const level = logLevelOf(opts.level);
  if (pretty) {
    return pino({ name: opts.name, level, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  return pino({ name: opts.name, level });
}

/** For tests and library use: logs nothing. */
export const silentLogger: Logger = pino({ level: 'silent' });
