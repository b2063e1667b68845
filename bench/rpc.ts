/**
 * A bench client that waits for replies the way a serious caller does: one reply queue for the
 * whole run, each reply handed to its request by correlation id the moment it arrives. (The test
 * client declares a queue per request and polls it every 25 ms, which the benches used to time
 * as if it were the agent's.)
 */
import { randomUUID } from 'node:crypto';
import type { Subscription } from '../src/ports/transport.js';
import type { TestClient } from '../test/helpers/agent.js';

export class RpcClient {
  private readonly waiting = new Map<string, (reply: Record<string, unknown>) => void>();
  private sub: Subscription | undefined;
  private readonly replyTo = `bosun.reply.${randomUUID()}`;

  private constructor(private readonly client: TestClient) {}

  static async open(client: TestClient): Promise<RpcClient> {
    const rpc = new RpcClient(client);
    rpc.sub = await client.transport.consume(rpc.replyTo, async (m) => {
      await m.ack();
      rpc.waiting.get(m.correlationId ?? '')?.(JSON.parse(m.body.toString('utf8')) as Record<string, unknown>);
    }, { prefetch: 500, ephemeral: true });
    return rpc;
  }

  /** Sends and resolves with the reply envelope (the send's confirm is awaited beside the reply, not before it). */
  /** `until`: keep waiting past replies it refuses (a workflow.start is answered twice on reply_to: started, then ended). */
  async request(channel: string, body: unknown, o: { timeoutMs?: number; until?: (reply: Record<string, unknown>) => boolean } = {}): Promise<Record<string, unknown>> {
    const cid = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const replied = new Promise<Record<string, unknown>>((resolve, reject) => {
      this.waiting.set(cid, (reply) => { if (!o.until || o.until(reply)) resolve(reply); });
      timer = setTimeout(() => reject(new Error(`no reply on ${channel} within ${o.timeoutMs ?? 60_000} ms`)), o.timeoutMs ?? 60_000);
    });
    try {
      const [reply] = await Promise.all([replied, this.client.transport.publish(channel, JSON.stringify(body), { replyTo: this.replyTo, correlationId: cid })]);
      return reply;
    } finally {
      clearTimeout(timer);
      this.waiting.delete(cid);
    }
  }

  async close(): Promise<void> {
    await this.sub?.cancel();
  }
}
