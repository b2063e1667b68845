/**
 * Broker handler: publishes every matching container event to the broker on the topic
 * exchange (`bosun` by default) with routing key `bosun.events.<event>`, so any consumer
 * (the agent's channels, a user's queue bound with `bosun.events.#`) can react.
 * Params: url (default $BOSUN_BROKER_URL or amqp://guest:guest@127.0.0.1:5672), exchange.
 * Body: JSON {event, containerId, name, image, labels, timeNano, attributes}.
 */
import type { Transport } from '../../ports/transport.js';
import { BOSUN_EXCHANGE } from '../../ports/transport.js';
import type { GlueHandler, HandlerConfig, HandlerContext } from '../types.js';

export interface BrokerEventBody {
  event: string;
  containerId: string;
  name?: string;
  image?: string;
  labels?: Record<string, string>;
  timeNano?: string;
  attributes?: Record<string, string>;
}

export class BrokerHandler implements GlueHandler {
  readonly kind = 'event' as const;
  private connected: Promise<void> | undefined;
  private readonly exchange: string;

  constructor(
    cfg: HandlerConfig,
    private readonly transport: Transport,
  ) {
    this.exchange = cfg.params.exchange ?? BOSUN_EXCHANGE;
  }

  async handle(ctx: HandlerContext): Promise<void> {
    if (!this.connected) {
      this.connected = this.transport.connect();
      this.connected.catch(() => (this.connected = undefined));
    }
    await this.connected;
    const ev = ctx.event;
    const attrs = ev.attributes ?? {};
    const body: BrokerEventBody = {
      event: ev.event,
      containerId: ev.containerId,
      ...(attrs.name ? { name: attrs.name } : {}),
      ...(attrs.image ? { image: attrs.image } : {}),
      ...(ev.timeNano !== undefined ? { timeNano: ev.timeNano.toString() } : {}),
      attributes: attrs,
    };
    await this.transport.publishRouted(this.exchange, `bosun.events.${ev.event}`, JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
  }

  async close(): Promise<void> {
    if (this.connected) await this.transport.close();
  }
}
