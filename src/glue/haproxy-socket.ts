/**
 * A minimal client of HAProxy's runtime API (the `stats socket` at level admin): one command
 * per connection, non-interactive — HAProxy answers and closes.
 */
import { createConnection } from 'node:net';
import { BosunError } from '../domain/errors.js';

export function runtimeCommand(socketPath: string, command: string, timeoutMs = 2_000): Promise<string> {
  if (/[\n;]/.test(command)) {
    return Promise.reject(new BosunError('invalid_message', `runtime command must be one command: ${JSON.stringify(command)}`, { field: 'command', retryable: false }));
  }
  return new Promise((resolve, reject) => {
    const sock = createConnection(socketPath);
    let out = '';
    let settled = false;
    const finish = (err: Error | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(out.trim());
    };
    const timer = setTimeout(
      () => finish(new BosunError('timeout', `haproxy runtime API ${socketPath}: no answer to "${command}" within ${timeoutMs} ms`, { retryable: true })),
      timeoutMs,
    );
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${command}\n`));
    sock.on('data', (d: string) => (out += d));
    sock.on('end', () => finish(undefined));
    sock.on('error', (e) =>
      finish(new BosunError('engine_error', `haproxy runtime API ${socketPath}: ${e.message}`, { cause: e, retryable: true })),
    );
  });
}
