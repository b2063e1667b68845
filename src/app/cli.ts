/** `bosun` command line (the tree is in program.ts). */
import { buildProgram } from './program.js';

await buildProgram().parseAsync(process.argv);
