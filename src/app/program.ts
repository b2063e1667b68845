/**
 * The `bosun` command tree: one composition root per sub-command, each area registering its
 * sub-commands with one line. Built without parsing, so the README's reference is generated from it.
 */
import { Command } from 'commander';
import { registerAgentCommands } from './agent-cli.js';
import { registerGlueCommands } from './glue-cli.js';
import { registerStackCommands } from './stack-cli.js';
import { registerServerCommands } from './server-cli.js';
import { registerNodeCommands } from './node-cli.js';
import { registerSchemaCommands } from './schemas-cli.js';
import { registerExecCommands } from './exec-cli.js';
import { registerWorkflowCommands } from './workflow-cli.js';

export function buildProgram(): Command {
  const program = new Command();
  program.name('bosun').description('A container orchestrator driven by messages').version('0.1.0');
  registerAgentCommands(program);
  registerGlueCommands(program);
  registerStackCommands(program);
  registerServerCommands(program);
  registerNodeCommands(program);
  registerSchemaCommands(program);
  registerExecCommands(program);
  registerWorkflowCommands(program);
  return program;
}
