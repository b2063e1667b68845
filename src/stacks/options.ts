/**
 * docker-map's options as a message/CLI contract (snake_case, all optional) and their
 * resolution to the planner's full StackOptions.
 */
import { z } from 'zod';
import { DEFAULT_STACK_OPTIONS, type StackOptions } from '../domain/stack.js';

const oneOrMany = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));

export const StackOptionsInput = z
  .object({
    services: oneOrMany.optional(),
    instances: oneOrMany.optional(),
    remove_persistent: z.boolean().optional(),
    remove_attached: z.boolean().optional(),
    pull_all_images: z.boolean().optional(),
    pull_before_update: z.boolean().optional(),
    force_update: oneOrMany.optional(),
    skip_limit_reset: z.boolean().optional(),
    update_persistent: z.boolean().optional(),
    check_exec_commands: z.enum(['full', 'partial', 'none']).optional(),
    restart_exec_commands: z.boolean().optional(),
    nonrecoverable_exit_codes: z.array(z.number().int()).optional(),
    remove_orphans: z.boolean().optional(),
    signal: z.string().regex(/^(SIG)?[A-Z0-9]+$|^\d+$/).optional(),
    stop_timeout_s: z.number().int().min(0).optional(),
    /** How long to wait for service_healthy / service_completed_successfully dependencies. */
    wait_timeout_s: z.number().positive().optional(),
  })
  .strict();

export type StackOptionsInputT = z.input<typeof StackOptionsInput>;

export function resolveOptions(input: z.output<typeof StackOptionsInput> | undefined): StackOptions {
  const out: StackOptions = { ...DEFAULT_STACK_OPTIONS };
  for (const [k, v] of Object.entries(input ?? {})) {
    if (v !== undefined && k !== 'wait_timeout_s') (out as unknown as Record<string, unknown>)[k] = v;
  }
  return out;
}
