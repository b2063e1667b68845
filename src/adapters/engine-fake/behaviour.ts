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

/** The container's files as the default behaviour sees them (echo > f, cat f, touch f, test -f f). */
export interface FileIO {
  read(path: string): string | undefined;
  write(path: string, data: string, append: boolean): void;
}

/**
 * `stdin`: what the process reads on stdin — '' for none (EOF at once, as /dev/null), undefined
 * for an open stdin nobody wrote to (a read blocks: the process runs until stopped).
 */
export type Behaviour = (spec: ContainerSpec, files?: FileIO, stdin?: string) => BehaviourOutcome;

/** The process a spec runs: entrypoint then cmd (the image supplies neither in the fake). */
export function commandOf(spec: Pick<ContainerSpec, 'cmd' | 'entrypoint'>): string[] {
  return [...(spec.entrypoint ?? []), ...(spec.cmd ?? [])];
}

export const defaultBehaviour: Behaviour = (spec, files, stdin) => interpret(commandOf(spec), files, stdin);

interface Run {
  stdout: string;
  stderr: string;
  ms: number;
  forever: boolean;
  exit?: number;
  files?: FileIO;
  /** Not yet read; undefined: an open stdin nobody writes to. */
  stdin?: string;
}

/** `stdin` as for Behaviour: undefined is an open stdin nobody writes to. */
export function interpret(argv: string[], files?: FileIO, stdin?: string): BehaviourOutcome {
  if (argv.length === 0) return {};
  const [bin, ...args] = argv;
  if ((bin === 'sh' || bin === '/bin/sh' || bin === 'bash') && args[0] === '-c' && args[1] !== undefined) return outcome(script(args[1], files, stdin));
  const run: Run = { stdout: '', stderr: '', ms: 0, forever: false, ...(files ? { files } : {}), ...(stdin !== undefined ? { stdin } : {}) };
  step(run, argv);
  return outcome(run);
}

function outcome(r: Run): BehaviourOutcome {
  const out = { ...(r.stdout ? { stdout: r.stdout } : {}), ...(r.stderr ? { stderr: r.stderr } : {}) };
  if (r.forever) return out;
  return { ...out, exitCode: r.exit ?? 0, ...(r.ms > 0 ? { runsForMs: r.ms } : {}) };
}

function script(src: string, files: FileIO | undefined, stdin: string | undefined): Run {
  const run: Run = { stdout: '', stderr: '', ms: 0, forever: false, ...(files ? { files } : {}), ...(stdin !== undefined ? { stdin } : {}) };
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

function step(run: Run, all: string[]): void {
  const w = all[0] === 'exec' ? all.slice(1) : all;
  const [bin, ...args] = w;
  const toErr = args.at(-1) === '>&2' || args.at(-1) === '1>&2';
  const redirect = args.findIndex((a) => a === '>' || a === '>>');
  const target = redirect >= 0 ? args[redirect + 1] : undefined;
  const rest = toErr ? args.slice(0, -1) : redirect >= 0 ? args.slice(0, redirect) : args;
  let first = true;
  const write = (s: string) => {
    if (target !== undefined) run.files?.write(target, s, args[redirect] === '>>' || !first);
    else if (toErr) run.stderr += s;
    else run.stdout += s;
    first = false;
  };
  const missing = (p: string) => {
    run.stderr += `${bin}: can't open '${p}': No such file or directory\n`;
    run.exit = 1;
  };
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
    case 'cat':
      if (rest.length === 0 || (rest.length === 1 && rest[0] === '-')) {
        if (run.stdin === undefined) run.forever = true;
        else write(run.stdin);
        run.stdin = '';
        return;
      }
      for (const p of rest) {
        const text = run.files?.read(p);
        if (text === undefined) return missing(p);
        write(text);
      }
      return;
    case 'touch':
      for (const p of rest) run.files?.write(p, '', true);
      return;
    case 'test':
    case '[':
      if ((rest[0] === '-f' || rest[0] === '-e') && rest[1]) run.exit = run.files?.read(rest[1]) === undefined ? 1 : undefined;
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
