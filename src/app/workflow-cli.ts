/**
 * `bosun workflow …`: workflows in the Amazon States Language. `validate FILE…` checks
 * definitions (JSON, JSON5 or YAML) and prints every problem with its state and field;
 * exit 0 when all are valid, 1 when one is not, 2 when a file cannot be read.
 */
import type { Command } from 'commander';
import { isBosunError } from '../domain/errors.js';
import { formatProblems, loadDefinitionFile, type DefinitionProblem } from '../workflow/definition.js';

interface FileResult { file: string; valid: boolean; problems: DefinitionProblem[]; error?: string }

function check(file: string): FileResult {
  try {
    loadDefinitionFile(file);
    return { file, valid: true, problems: [] };
  } catch (e) {
    if (isBosunError(e) && e.code === 'invalid_message' && Array.isArray((e.details as { problems?: unknown } | undefined)?.problems)) {
      return { file, valid: false, problems: (e.details as { problems: DefinitionProblem[] }).problems };
    }
    return { file, valid: false, problems: [], error: isBosunError(e) ? e.message : e instanceof Error ? e.message : String(e) };
  }
}

export function registerWorkflowCommands(program: Command): void {
  const wf = program.command('workflow').description('Workflows in the Amazon States Language (ASL)');
  wf.command('validate')
    .description('validate workflow definitions (JSON, JSON5 or YAML); errors name the state and field')
    .argument('<files...>', 'definition files')
    .option('--json', 'print the results as JSON')
    .action((files: string[], flags: { json?: boolean }) => {
      const results = files.map(check);
      if (flags.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
      else {
        for (const r of results) {
          if (r.valid) process.stdout.write(`${r.file}: valid\n`);
          else if (r.error) process.stderr.write(`${r.file}: ${r.error}\n`);
          else process.stderr.write(formatProblems(r.problems, r.file) + '\n');
        }
      }
      process.exitCode = results.some((r) => r.error && !r.problems.length) ? 2 : results.every((r) => r.valid) ? 0 : 1;
    });
}
