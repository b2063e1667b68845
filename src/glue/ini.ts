/**
 * INI as Python's configparser reads seed 004's handler files: `[section]`, `key = value` or
 * `key: value`, whole-line comments (`#`, `;`), indented continuation lines, keys lower-cased.
 * Unlike the `ini` package, `;` and `#` inside a value are kept (`reload_command=a; b`).
 */
import { BosunError } from '../domain/errors.js';

export function parseConfigParserIni(text: string, file: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let section: Record<string, string> | undefined;
  let lastKey: string | undefined;
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((line, i) => {
    const fail = (what: string): never => {
      throw new BosunError('invalid_message', `${file}:${i + 1}: ${what}`, { field: 'ini' });
    };
    if (/^\s*$/.test(line)) {
      lastKey = undefined;
      return;
    }
    if (/^\s*[#;]/.test(line)) return;
    if (/^\s/.test(line) && section && lastKey !== undefined) {
      section[lastKey] = `${section[lastKey]}\n${line.trim()}`;
      return;
    }
    const head = /^\[([^\]]+)\]\s*$/.exec(line);
    if (head) {
      section = out[head[1]!.trim()] ??= {};
      lastKey = undefined;
      return;
    }
    if (!section) fail('a key before any [section]');
    const m = /^([^=:]+?)\s*[=:]\s?(.*)$/.exec(line);
    if (!m) fail(`"${line.trim()}" is not "key = value"`);
    lastKey = m![1]!.trim().toLowerCase();
    section![lastKey] = m![2]!.trim();
  });
  return out;
}
