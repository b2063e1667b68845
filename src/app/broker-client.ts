/**
 * Request/reply over the broker for command-line clients: one private reply queue, replies
 * matched to their request by correlation id. A request may get more than one message back
 * (workflow.start: the start reply, then the end reply): `next` takes them in order.
 */
import { randomUUID } from 'node:crypto';
import { createTransport } from '../adapters/transport-factory.js';
import type { Subscription, Transport } from '../ports/transport.js';
import { silentLogger } from '../util/log.js';

export type Envelope = Record<string, unknown> & { ok?: boolean; result?: unknown; error?: { code?: string; message?: string; field?: string } };

interface Mailbox { messages: Envelope[]; waiter?: () => void }

export class BrokerClient {
  private readonly boxes = new Map<string, Mailbox>();
  private sub: Subscription | undefined;
  private readonly queue = `bosun.reply.${randomUUID()}`;

  private constructor(private readonly transport: Transport) {}

  static async open(url: string): Promise<BrokerClient> {
    const t = await createTransport(url, silentLogger);
    await t.connect();
    const c = new BrokerClient(t);
    c.sub = await t.consume(c.queue, async (m) => {
      await m.ack();
      const box = m.correlationId ? c.boxes.get(m.correlationId) : undefined;
      if (!box) return;
      try {
        box.messages.push(JSON.parse(m.body.toString('utf8')) as Envelope);
      } catch {
        box.messages.push({ ok: false, error: { message: `unreadable reply: ${m.body.toString('utf8').slice(0, 200)}` } });
      }
      box.waiter?.();
    }, { prefetch: 16, ephemeral: true });
    return c;
  }

  /** Publishes a request; returns its correlation id (pass it to `next`). */
  async send(channel: string, body: unknown): Promise<string> {
    const id = randomUUID();
    this.boxes.set(id, { messages: [] });
    await this.transport.publish(channel, JSON.stringify(body), { replyTo: this.queue, correlationId: id, messageId: id });
    return id;
  }

  /** The next message for a request, or undefined after timeoutMs. */
  async next(id: string, timeoutMs: number): Promise<Envelope | undefined> {
    const box = this.boxes.get(id);
    if (!box) throw new Error(`no request ${id}`);
    if (box.messages.length === 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        box.waiter = () => { clearTimeout(t); resolve(); };
      });
      delete box.waiter;
    }
    return box.messages.shift();
  }

  /** A message already received for a request, without waiting. */
  take(id: string): Envelope | undefined {
    return this.boxes.get(id)?.messages.shift();
  }

  async request(channel: string, body: unknown, timeoutMs: number): Promise<Envelope | undefined> {
    const id = await this.send(channel, body);
    try {
      return await this.next(id, timeoutMs);
    } finally {
      this.boxes.delete(id);
    }
  }

  async close(): Promise<void> {
    await this.sub?.cancel().catch(() => undefined);
    await this.transport.close();
  }
}
