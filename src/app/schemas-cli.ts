/**
 * `bosun schemas [DIR]`: writes one JSON Schema per channel, generated from the same zod
 * schemas the agent validates with, so the published contract cannot drift from the code.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { DESCRIBE_ONLY_DEPS, buildRegistry } from '../actions/registry.js';
import { workflowActions } from '../actions/workflow/index.js';
import { DESCRIBE_ONLY_WORKFLOW_DEPS } from '../actions/workflow/describe-only.js';

export function channelSchemas(): Record<string, unknown> {
  const registry = buildRegistry(DESCRIBE_ONLY_DEPS, { extra: workflowActions(DESCRIBE_ONLY_WORKFLOW_DEPS) });
  const out: Record<string, unknown> = {};
  for (const [channel, action] of registry) {
    out[channel] = { title: channel, description: action.description, ...z.toJSONSchema(action.schema, { io: 'input', unrepresentable: 'any' }) };
  }
  return out;
}

export function registerSchemaCommands(program: Command): void {
  program
    .command('schemas')
    .description('Write the JSON Schema of every channel message into a folder')
    .argument('[dir]', 'output folder', 'schemas')
    .action(async (dir: string) => {
      await mkdir(dir, { recursive: true });
      for (const [channel, schema] of Object.entries(channelSchemas())) {
        await writeFile(join(dir, `${channel}.schema.json`), JSON.stringify(schema, null, 2) + '\n');
      }
      process.stdout.write(`wrote ${Object.keys(channelSchemas()).length} schemas to ${dir}\n`);
    });
}
