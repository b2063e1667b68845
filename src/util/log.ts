import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs by default; `pretty` (or BOSUN_LOG_PRETTY=1) for humans at a terminal. */
export function createLogger(opts: { name: string; level?: string; pretty?: boolean }): Logger {
  const pretty = opts.pretty ?? process.env.BOSUN_LOG_PRETTY === '1';
  const level = opts.level ?? process.env.BOSUN_LOG_LEVEL ?? 'info';
  if (pretty) {
    return pino({ name: opts.name, level, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  return pino({ name: opts.name, level });
}

/** For tests and library use: logs nothing. */
export const silentLogger: Logger = pino({ level: 'silent' });
