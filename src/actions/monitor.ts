/** Seed 000: monitor_container_status — notify response_channel once the container stops running. */
import { z } from 'zod';
import { BosunError } from '../domain/errors.js';
import { ensureMayActOn } from '../domain/policy/ownership.js';
import type { MonitorManager } from '../agent/monitors.js';
import { containerRef, requestIdField, responseChannelField } from './schemas/run.js';
import type { ActionDefinition } from './types.js';

const monitorSchema = z.strictObject({
  request_id: requestIdField.optional(),
  name: containerRef,
  response_channel: responseChannelField,
  /** Seconds between periodic checks (events notice a stop at once). */
  interval: z.number().positive().max(86_400).default(10),
});

export function monitorAction(monitors: MonitorManager): ActionDefinition<typeof monitorSchema> {
  return {
    channel: 'monitor_container_status',
    description: 'Watch a container; when it is no longer running, publish {container, timestamp, running: false, current_status, exit_code} to response_channel.',
    schema: monitorSchema,
    // The acknowledgement goes to reply_to only: response_channel receives just the notice, as in seed 000.
    async handle(input, ctx) {
      const d = await ctx.engine.containers.inspect(input.name);
      if (!d) throw new BosunError('not_found', `no container named "${input.name}" to monitor`, { field: 'name', retryable: false });
      ensureMayActOn(ctx.policy, 'container', input.name, d.labels, 'name', ctx.publisher);
      await monitors.add({ id: ctx.requestId, name: input.name, response_channel: input.response_channel, interval_s: input.interval });
      return { reply: { container: { id: d.id, name: d.name }, result: { monitoring: true, monitor_id: ctx.requestId, interval: input.interval } } };
    },
  };
}
