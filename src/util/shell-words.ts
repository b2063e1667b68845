/**
 * Shell-like word splitting (POSIX shlex rules, as Compose applies to string commands):
 * single quotes are literal, double quotes allow \" and \\, a backslash outside quotes escapes
 * the next character. Throws on an unterminated quote.
 */
export function splitShellWords(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && (s[i + 1] === '"' || s[i + 1] === '\\')) cur += s[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (ch === '\\' && i + 1 < s.length) {
      cur += s[++i];
      has = true;
    } else if (/\s/.test(ch)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else cur += ch;
  }
  if (quote) throw new Error(`unterminated ${quote} quote in "${s}"`);
  if (has || cur) out.push(cur);
  return out;
}

/** One word for `sh -c`, single-quoted (a `'` inside becomes `'\''`). */
export function quoteShellWord(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}
