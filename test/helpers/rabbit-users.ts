/**
 * Publishing as a named RabbitMQ user: the connection is that user's, and the `user_id` property
 * (which RabbitMQ checks against the connection's user) is what the agent's policy keys on.
 */
import { randomUUID } from 'node:crypto';
import type amqp from 'amqplib';
import { eventually } from './docker.js';

/** Publishes `body` on `channel` over `conn` with `userId` (none when undefined) and waits for the reply on an exclusive queue. */
export async function publishAsUser<R>(conn: amqp.ChannelModel, channel: string, body: unknown, userId: string | undefined): Promise<R> {
  const ch = await conn.createConfirmChannel();
  try {
    const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    let reply: R | undefined;
    await ch.consume(queue, (m) => {
      // The first reply is the answer (a workflow.start's end reply may follow within the poll interval).
      if (m && reply === undefined) reply = JSON.parse(m.content.toString()) as R;
    }, { noAck: true });
    await new Promise<void>((resolve, reject) =>
      ch.publish('', channel, Buffer.from(JSON.stringify(body)), { replyTo: queue, messageId: randomUUID(), ...(userId !== undefined ? { userId } : {}) }, (err: unknown) => (err ? reject(err as Error) : resolve())),
    );
    return await eventually(`reply on ${channel}`, async () => reply, 30_000, 25);
  } finally {
    await ch.close().catch(() => undefined);
  }
}
