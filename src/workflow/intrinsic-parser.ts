/**
 * Parser for intrinsic function calls: `States.Name(arg, …)` where an argument is a string
 * literal in single quotes (`\'`, `\{`, `\}`, `\\` escaped), a number, true/false/null, a
 * path (`$…`, `$$…`) or another call.
 */
import { States, StatesError } from './errors.js';

export type IntrinsicArg =
  | { kind: 'literal'; value: string | number | boolean | null; /** a string literal with \\{ \\} kept, for States.Format */ template?: string }
  | { kind: 'path'; path: string }
  | { kind: 'call'; name: string; args: IntrinsicArg[] };

function fail(src: string, pos: number, what: string): never {
  throw new StatesError(States.IntrinsicFailure, `invalid intrinsic function "${src}" at character ${pos}: ${what}`);
}

export function parseIntrinsic(src: string): IntrinsicArg & { kind: 'call' } {
  let pos = 0;
  const ws = (): void => { while (pos < src.length && /\s/.test(src[pos]!)) pos++; };

  const call = (): IntrinsicArg & { kind: 'call' } => {
    const m = /^States\.[A-Za-z0-9]+/.exec(src.slice(pos));
    if (!m) fail(src, pos, 'expected a function name States.…');
    pos += m[0].length;
    ws();
    if (src[pos] !== '(') fail(src, pos, `expected "(" after ${m[0]}`);
    pos++;
    const args: IntrinsicArg[] = [];
    ws();
    if (src[pos] === ')') { pos++; return { kind: 'call', name: m[0], args }; }
    for (;;) {
      ws();
      args.push(arg());
      ws();
      if (src[pos] === ',') { pos++; continue; }
      if (src[pos] === ')') { pos++; return { kind: 'call', name: m[0], args }; }
      fail(src, pos, 'expected "," or ")"');
    }
  };

  const str = (): IntrinsicArg => {
    pos++; // opening quote
    let out = '';
    let template = '';
    while (pos < src.length) {
      const c = src[pos]!;
      if (c === '\\') {
        const n = src[pos + 1];
        if (n === undefined || !"'{}\\".includes(n)) fail(src, pos, 'an open escape backslash (only \\\' \\{ \\} \\\\ are escapes)');
        out += n;
        // \{ and \} stay escaped in the template form: States.Format tells literal braces from placeholders.
        template += n === '{' || n === '}' || n === '\\' ? `\\${n}` : n;
        pos += 2;
        continue;
      }
      if (c === "'") { pos++; return { kind: 'literal', value: out, template }; }
      out += c;
      template += c;
      pos++;
    }
    fail(src, pos, 'unterminated string');
  };

  const path = (): IntrinsicArg => {
    const start = pos;
    let depth = 0;
    let quote: string | undefined;
    while (pos < src.length) {
      const c = src[pos]!;
      if (quote) { if (c === quote && src[pos - 1] !== '\\') quote = undefined; }
      else if (c === "'" || c === '"') quote = c;
      else if (c === '[' || c === '(') depth++;
      else if (c === ']' || (c === ')' && depth > 0)) depth--;
      else if (depth === 0 && (c === ',' || c === ')')) break;
      pos++;
    }
    return { kind: 'path', path: src.slice(start, pos).trim() };
  };

  const arg = (): IntrinsicArg => {
    const c = src[pos];
    if (c === "'") return str();
    if (c === '$') return path();
    if (src.startsWith('States.', pos)) return call();
    const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)(?=\s*[,)])/.exec(src.slice(pos));
    if (!m) fail(src, pos, 'expected a string, number, true, false, null, a path or a call');
    pos += m[0].length;
    const t = m[0];
    return { kind: 'literal', value: t === 'true' ? true : t === 'false' ? false : t === 'null' ? null : Number(t) };
  };

  ws();
  const top = call();
  ws();
  if (pos !== src.length) fail(src, pos, 'unexpected text after the call');
  return top;
}
