/** `bosun` command line (the tree is in program.ts). */
import { isBosunError } from '../domain/errors.js';
import { buildProgram } from './program.js';

// A command that fails before it can report (a bad setting, a refused pool file) says so in one line, exit 1.
await buildProgram().parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`bosun: ${isBosunError(e) ? `${e.code}: ` : ''}${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
