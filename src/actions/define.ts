/** Turns a typed action definition into a registry entry; the input's type stays inside. */
import type { z } from 'zod';
import { validate } from '../domain/validate.js';
import { DEFAULT_DELIVERY, type AcceptedMessage, type Action, type ActionDefinition } from './types.js';

export function defineAction<S extends z.ZodType>(d: ActionDefinition<S>): Action {
  return {
    channel: d.channel,
    description: d.description,
    schema: d.schema,
    delivery: { ...DEFAULT_DELIVERY, ...d.delivery },
    accept(body: unknown): AcceptedMessage {
      const input = validate(d.schema, body);
      return {
        replyChannel: d.replyChannelOf?.(input),
        format: d.responseFormatOf?.(input) ?? 'envelope',
        runKind: d.runKindOf?.(input),
        handle: (ctx) => d.handle(input, ctx),
      };
    },
  };
}

/** The same definition on another channel (seed 003's -q names the dispatch queue). */
export function onChannel<S extends z.ZodType>(d: ActionDefinition<S>, channel: string | undefined): ActionDefinition<S> {
  return channel ? { ...d, channel } : d;
}
