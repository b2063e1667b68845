/**
 * Reusable Transport contract (no adapter specifics). Run it from an adapter's test file:
 *
 *   transportContract('redis', async () => { const t = new RedisTransport(url, silentLogger); await t.connect(); return t; },
 *     { cleanup: (channels) => deleteMyKeys(channels) });
 *
 * `make` must return a CONNECTED transport; the suite closes every transport it made.
 * Channel names are unique per test (`bosun-test-<run>-<n>`); `cleanup` receives all of them at the end
 * (delete queues / stream keys there). No assertion depends on elapsed time: waits are event-driven or
 * polled, with a generous watchdog only to turn a hang into a readable failure.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { BOSUN_EXCHANGE, type InboundMessage, type MessageHandler, type Transport } from '../../src/ports/transport.js';

export interface TransportContractOptions {
  /** Called once after every test of the suite has run, with every channel name the suite used. */
  cleanup?: (channels: string[]) => Promise<void>;
  /** Watchdog for waits (default 20 s). Not an assertion on speed: only turns a hang into a failure. */
  watchdogMs?: number;
}

/** Collects deliveries; `waitFor(n)` resolves once n messages have arrived. */
export class Inbox {
  readonly messages: InboundMessage[] = [];
  private waiters: Array<{ n: number; resolve: () => void }> = [];
  constructor(
    private readonly watchdogMs = 20_000,
    private readonly onMessage?: (m: InboundMessage, inbox: Inbox) => void | Promise<void>,
  ) {}

  readonly handler: MessageHandler = async (m) => {
    this.messages.push(m);
    await this.onMessage?.(m, this);
    this.waiters = this.waiters.filter((w) => {
      if (this.messages.length < w.n) return true;
      w.resolve();
      return false;
    });
  };

  bodies(): string[] {
    return this.messages.map((m) => m.body.toString());
  }

  async waitFor(n: number, what = `${n} message(s)`): Promise<InboundMessage[]> {
    if (this.messages.length < n) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.waiters.push({ n, resolve })),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`watchdog: waiting for ${what}, got ${this.messages.length}: ${JSON.stringify(this.bodies())}`)), this.watchdogMs);
        }),
      ]).finally(() => clearTimeout(timer));
    }
    return this.messages.slice(0, n);
  }
}

/** Polls until `check` returns true (watchdog-bounded). */
export async function until(what: string, check: () => Promise<boolean>, watchdogMs = 20_000): Promise<void> {
  const deadline = Date.now() + watchdogMs;
  let last = '';
  for (;;) {
    try {
      if (await check()) return;
    } catch (e) {
      last = String(e);
    }
    if (Date.now() > deadline) throw new Error(`watchdog: waiting for ${what} ${last}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function transportContract(name: string, make: () => Promise<Transport>, opts: TransportContractOptions = {}): void {
  const watchdog = opts.watchdogMs ?? 20_000;
  const run = randomBytes(4).toString('hex');
  const channels: string[] = [];
  const transports: Transport[] = [];
  let n = 0;
  const channel = (): string => {
    const c = `bosun-test-${run}-${++n}`;
    channels.push(c);
    return c;
  };
  const open = async (): Promise<Transport> => {
    const t = await make();
    transports.push(t);
    return t;
  };
  const inbox = (onMessage?: (m: InboundMessage, inbox: Inbox) => void | Promise<void>) => new Inbox(watchdog, onMessage);
  const depthIs = (t: Transport, ch: string, want: number) => until(`depth(${ch}) == ${want}`, async () => (await t.depth(ch)) === want, watchdog);

  describe(`Transport contract (${name})`, () => {
    after(async () => {
      for (const t of transports) await t.close().catch(() => undefined);
      await opts.cleanup?.(channels);
    });

    it('is connected after make() and reports its kind', async () => {
      const t = await open();
      assert.equal(t.isConnected(), true);
      assert.ok(t.kind === 'amqp' || t.kind === 'redis');
    });

    it('round-trips body, reply_to, correlation_id, message_id and headers', async () => {
      const t = await open();
      const ch = channel();
      await t.declareChannel(ch);
      await t.declareChannel(ch); // idempotent
      const box = inbox((m) => m.ack());
      const sub = await t.consume(ch, box.handler, { prefetch: 1 });
      await t.publish(ch, Buffer.from('hello \u00e9'), { correlationId: 'corr-1', replyTo: 'reply.here', messageId: 'mid-1', headers: { a: '1', 'x-b': 'two' } });
      await t.publish(ch, 'plain string');
      const [m1, m2] = await box.waitFor(2);
      assert.ok(m1 && m2);
      assert.equal(m1.channel, ch);
      assert.equal(m1.body.toString('utf8'), 'hello \u00e9');
      assert.ok(Buffer.isBuffer(m1.body));
      assert.equal(m1.correlationId, 'corr-1');
      assert.equal(m1.replyTo, 'reply.here');
      assert.equal(m1.messageId, 'mid-1');
      assert.deepEqual(m1.headers, { a: '1', 'x-b': 'two' });
      assert.equal(m1.redelivered, false);
      assert.equal(m2.body.toString(), 'plain string');
      assert.equal(m2.correlationId, undefined);
      assert.equal(m2.replyTo, undefined);
      assert.deepEqual(m2.headers, {});
      await sub.cancel();
      await depthIs(t, ch, 0);
    });

    it('publish with declare:true to a fresh channel keeps the message for a later consumer', async () => {
      const t = await open();
      const ch = channel();
      await t.publish(ch, 'kept', { declare: true, correlationId: 'c' });
      const box = inbox((m) => m.ack());
      const sub = await t.consume(ch, box.handler, { prefetch: 1 });
      const [m] = await box.waitFor(1);
      assert.equal(m?.body.toString(), 'kept');
      await sub.cancel();
    });

    it('ack removes the message: depth goes to 0 and a later consumer does not see it', async () => {
      const t = await open();
      const ch = channel();
      await t.declareChannel(ch);
      await t.publish(ch, 'once');
      await depthIs(t, ch, 1);
      const box = inbox((m) => m.ack());
      const sub = await t.consume(ch, box.handler, { prefetch: 1 });
      await box.waitFor(1);
      await sub.cancel();
      await depthIs(t, ch, 0);
      const box2 = inbox((m) => m.ack());
      const sub2 = await t.consume(ch, box2.handler, { prefetch: 1 });
      await t.publish(ch, 'marker');
      await box2.waitFor(1);
      assert.deepEqual(box2.bodies(), ['marker']);
      await sub2.cancel();
    });

    it('nack({requeue:true}) redelivers with redelivered=true and the same messageId', async () => {
      const t = await open();
      const ch = channel();
      await t.declareChannel(ch);
      const box = inbox(async (m, b) => {
        if (b.messages.length === 1) await m.nack({ requeue: true });
        else await m.ack();
      });
      const sub = await t.consume(ch, box.handler, { prefetch: 1 });
      await t.publish(ch, 'again', { messageId: 'mid-again', correlationId: 'c-again', headers: { k: 'v' } });
      const [first, second] = await box.waitFor(2);
      assert.equal(first?.redelivered, false);
      assert.equal(second?.redelivered, true);
      assert.equal(second?.body.toString(), 'again');
      assert.equal(second?.messageId, 'mid-again');
      assert.equal(second?.correlationId, 'c-again');
      assert.deepEqual(second?.headers, { k: 'v' });
      await sub.cancel();
      await depthIs(t, ch, 0);
    });

    it('nack({requeue:false}) drops the message', async () => {
      const t = await open();
      const ch = channel();
      await t.declareChannel(ch);
      const box = inbox(async (m) => {
        if (m.body.toString() === 'drop') await m.nack({ requeue: false });
        else await m.ack();
      });
      const sub = await t.consume(ch, box.handler, { prefetch: 1 });
      await t.publish(ch, 'drop');
      await t.publish(ch, 'keep');
      await box.waitFor(2);
      await t.publish(ch, 'marker');
      await box.waitFor(3);
      assert.deepEqual(box.bodies(), ['drop', 'keep', 'marker']);
      await sub.cancel();
      await depthIs(t, ch, 0);
    });

    it('never hands out more than `prefetch` unacked messages', async () => {
      const t = await open();
      const ch = channel();
      const prefetch = 2;
      const total = 7;
      await t.declareChannel(ch);
      for (let i = 0; i < total; i++) await t.publish(ch, `m${i}`);
      const outstanding: InboundMessage[] = [];
      let max = 0;
      const box = inbox((m) => {
        outstanding.push(m);
        max = Math.max(max, outstanding.length);
        if (outstanding.length >= prefetch) {
          // Give the transport every chance to over-deliver before freeing a slot.
          void pause(100).then(async () => {
            const oldest = outstanding.shift();
            await oldest?.ack();
          });
        }
      });
      const sub = await t.consume(ch, box.handler, { prefetch });
      await box.waitFor(total);
      await pause(150);
      await Promise.all(outstanding.splice(0).map((m) => m.ack()));
      assert.ok(max <= prefetch, `had ${max} unacked messages with prefetch ${prefetch}`);
      assert.equal(max, prefetch, 'the prefetch window should be used');
      assert.deepEqual([...box.bodies()].sort(), Array.from({ length: total }, (_, i) => `m${i}`).sort());
      await sub.cancel();
      await depthIs(t, ch, 0);
    });

    it('depth counts ready messages', async () => {
      const t = await open();
      const ch = channel();
      await t.declareChannel(ch);
      assert.equal(await t.depth(ch), 0);
      for (let i = 0; i < 3; i++) await t.publish(ch, `d${i}`);
      await depthIs(t, ch, 3);
      const box = inbox((m) => m.ack());
      const sub = await t.consume(ch, box.handler, { prefetch: 10 });
      await box.waitFor(3);
      await depthIs(t, ch, 0);
      await sub.cancel();
    });

    it('cancel stops delivery; in-flight messages can still be acked; the rest waits for the next consumer', async () => {
      const t = await open();
      const ch = channel();
      await t.declareChannel(ch);
      const box = inbox();
      const sub = await t.consume(ch, box.handler, { prefetch: 1 });
      await t.publish(ch, 'first');
      const [first] = await box.waitFor(1);
      await sub.cancel();
      await first?.ack();
      await t.publish(ch, 'after-cancel');
      await depthIs(t, ch, 1);
      const box2 = inbox((m) => m.ack());
      const sub2 = await t.consume(ch, box2.handler, { prefetch: 1 });
      await box2.waitFor(1);
      assert.deepEqual(box2.bodies(), ['after-cancel']);
      assert.deepEqual(box.bodies(), ['first']);
      await sub2.cancel();
    });

    it('ephemeral consumers get messages published to their channel', async () => {
      const t = await open();
      const ch = channel();
      const box = inbox((m) => m.ack());
      const sub = await t.consume(ch, box.handler, { prefetch: 5, ephemeral: true });
      await t.publish(ch, 'reply-1', { correlationId: 'r1' });
      await t.publish(ch, 'reply-2', { correlationId: 'r2' });
      const [a, b] = await box.waitFor(2);
      assert.equal(a?.body.toString(), 'reply-1');
      assert.equal(a?.correlationId, 'r1');
      assert.equal(b?.body.toString(), 'reply-2');
      await sub.cancel();
    });

    it('publishRouted to the bosun exchange with a channel name as routing key reaches that channel', async () => {
      const t = await open();
      const ch = channel();
      await t.declareChannel(ch);
      const box = inbox((m) => m.ack());
      const sub = await t.consume(ch, box.handler, { prefetch: 1 });
      await t.publishRouted(BOSUN_EXCHANGE, ch, '{"event":"x"}', { correlationId: 'rc' });
      const [m] = await box.waitFor(1);
      assert.equal(m?.body.toString(), '{"event":"x"}');
      await sub.cancel();
    });

    it('close() disconnects and can be called twice', async () => {
      const t = await open();
      await t.close();
      await t.close();
      assert.equal(t.isConnected(), false);
    });
  });
}
