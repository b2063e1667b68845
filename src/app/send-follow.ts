/**
 * `bosun send … --follow`: the run's live output as it comes (stdout chunks to stdout, stderr
 * chunks to stderr), then the final envelope (to stderr, without the stdout/stderr it repeats);
 * the exit code is the run's. The body asks for the chunks itself (`stream: true`).
 */
import { randomUUID } from 'node:crypto';
import type { Transport } from '../ports/transport.js';

export interface FollowSinks {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Exit codes: the run's exit code; 1 for a failed run without one (refused, timed out); 2 when nothing came in time. */
export class FollowPrinter {
  private next = 0;
  private endsInNewline = true;
  done: number | undefined;

  constructor(private readonly out: FollowSinks) {}

  /** One message from the reply queue; returns true once the final envelope was printed. */
  take(text: string): boolean {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(text) as Record<string, unknown>;
    } catch {
      this.out.stdout(text + '\n');
      return false;
    }
    if (typeof m.seq === 'number' && !('ok' in m)) {
      this.chunk(m);
      return false;
    }
    if (!this.endsInNewline) this.out.stdout('\n');
    const { stdout: _o, stderr: _e, ...rest } = m;
    this.out.stderr(JSON.stringify(rest) + '\n');
    if (m.ok === true && rest.streamed === undefined) this.out.stderr('bosun send: no live output (put "stream": true in the message)\n');
    this.done = typeof m.exit_code === 'number' ? m.exit_code : m.ok === true ? 0 : 1;
    return true;
  }

  private chunk(m: Record<string, unknown>): void {
    const seq = m.seq as number;
    if (seq === 0 && this.next > 0) this.out.stderr('\nbosun send: the run\'s output starts again (the message was delivered again)\n');
    else if (seq < this.next) return; // a duplicate
    this.next = seq + 1;
    if (m.truncated === true) {
      this.out.stderr(`\nbosun send: live output stopped at ${String(m.limit_bytes)} bytes (${String(m.reason)}); the envelope has the rest\n`);
      return;
    }
    const data = typeof m.data === 'string' ? m.data : '';
    if (m.stream === 'stderr') this.out.stderr(data);
    else {
      this.out.stdout(data);
      if (data) this.endsInNewline = data.endsWith('\n');
    }
  }
}

/** Publishes with a private reply queue and prints what arrives until the envelope; `idleS`: give up after this long without a message. */
export async function sendAndFollow(transport: Transport, channel: string, body: string, idleS: number, sinks: FollowSinks): Promise<number> {
  const correlationId = randomUUID();
  const replyTo = `bosun.reply.${correlationId}`;
  const printer = new FollowPrinter(sinks);
  let finish!: (code: number) => void;
  const finished = new Promise<number>((r) => (finish = r));
  let timer: NodeJS.Timeout | undefined;
  const idle = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      sinks.stderr(`bosun send: nothing arrived for ${idleS} s\n`);
      finish(2);
    }, idleS * 1000);
  };
  const sub = await transport.consume(replyTo, async (m) => {
    await m.ack();
    idle();
    if (printer.take(m.body.toString('utf8'))) finish(printer.done ?? 1);
  }, { prefetch: 50, ephemeral: true });
  try {
    idle();
    await transport.publish(channel, body, { correlationId, messageId: correlationId, replyTo });
    return await finished;
  } finally {
    clearTimeout(timer);
    await sub.cancel();
  }
}
