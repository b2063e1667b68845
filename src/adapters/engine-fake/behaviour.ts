/**
 * What a started fake container "does". A behaviour looks at the spec and says what the
 * process writes and how it ends; the default one understands a few simple commands (true,
 * false, echo, sleep, exit, and `sh -c` scripts made of those) and treats anything else as a
 * server that runs until it is stopped.
 */
import type { ContainerSpec } from '../../domain/engine/index.js';

export interface BehaviourOutcome {
  /** How the process ends; undefined with no `runsForMs`: it runs until stopped. */
  exitCode?: number;
  stdout?: string;
  stderr?: string;
  /** Exits (with exitCode, default 0) this long after start; undefined: at once if exitCode is set. */
  runsForMs?: number;
}

export type Behaviour = (spec: ContainerSpec) => BehaviourOutcome;

/** The process a spec runs: entrypoint then cmd (the image supplies neither in the fake). */
export function commandOf(spec: Pick<ContainerSpec, 'cmd' | 'entrypoint'>): string[] {
  return [...(spec.entrypoint ?? []), ...(spec.cmd ?? [])];
}

export const defaultBehaviour: Behaviour = (spec) => interpret(commandOf(spec));

interface Run {
  stdout: string;
  stderr: string;
  ms: number;
  forever: boolean;
  exit?: number;
}

export function interpret(argv: string[]): BehaviourOutcome {
  if (argv.length === 0) return {};
  const [bin, ...args] = argv;
  if ((bin === 'sh' || bin === '/bin/sh' || bin === 'bash') && args[0] === '-c' && args[1] !== undefined) return outcome(script(args[1]));
  const run: Run = { stdout: '', stderr: '', ms: 0, forever: false };
  step(run, argv);
  return outcome(run);
}

function outcome(r: Run): BehaviourOutcome {
  const out = { ...(r.stdout ? { stdout: r.stdout } : {}), ...(r.stderr ? { stderr: r.stderr } : {}) };
  if (r.forever) return out;
  return { ...out, exitCode: r.exit ?? 0, ...(r.ms > 0 ? { runsForMs: r.ms } : {}) };
}

function script(src: string): Run {
  const run: Run = { stdout: '', stderr: '', ms: 0, forever: false };
  for (const stmt of src.split(/;|&&|\n/).map((s) => s.trim()).filter(Boolean)) {
    if (run.exit !== undefined || run.forever) break;
    step(run, words(stmt));
  }
  return run;
}

/** Words of a statement, quotes removed (enough for the simple scripts the fake understands). */
function words(stmt: string): string[] {
  return (stmt.match(/'[^']*'|"[^"]*"|\S+/g) ?? []).map((w) => w.replace(/^(['"])(.*)\1$/, '$2'));
}

function step(run: Run, w: string[]): void {
  const [bin, ...args] = w;
  const toErr = args.at(-1) === '>&2' || args.at(-1) === '1>&2';
  const rest = toErr ? args.slice(0, -1) : args;
  const write = (s: string) => (toErr ? (run.stderr += s) : (run.stdout += s));
  const pipe = w.indexOf('|');
  if (bin === 'yes' && pipe > 0 && w[pipe + 1] === 'head' && w[pipe + 2] === '-c') {
    const n = Number(w[pipe + 3]);
    const word = pipe > 1 ? w.slice(1, pipe).join(' ') : 'y';
    write(`${word}\n`.repeat(Math.ceil(n / (word.length + 1))).slice(0, n));
    return;
  }
  switch (bin) {
    case 'true':
    case ':':
      return;
    case 'false':
      run.exit = 1;
      return;
    case 'exit':
      run.exit = Number(rest[0] ?? 0) & 255;
      return;
    case 'echo':
      write(`${rest.join(' ')}\n`);
      return;
    case 'sleep': {
      const s = Number(rest[0]);
      if (Number.isFinite(s)) run.ms += s * 1000;
      else run.forever = true;
      return;
    }
    default:
      run.forever = true;
  }
}
