/**
 * The README's command-line reference, rendered from the command tree itself (pure: a Command in,
 * Markdown out), so no flag is left undocumented and none documented that is gone. Sibling
 * commands with the same options (the stack verbs) share one table.
 */
import type { Command, Option } from 'commander';

/** Commands whose flags the README explains in a table of its own (with their environment variables). */
export const DOCUMENTED_APART = new Set(['agent']);

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function defaultOf(o: Option): string {
  if (o.defaultValueDescription) return o.defaultValueDescription;
  const v: unknown = o.defaultValue;
  if (v === undefined || v === false || (Array.isArray(v) && v.length === 0) || (o.negate && v === true)) return '';
  return `\`${Array.isArray(v) ? v.join(' ') : String(v)}\``;
}

function optionRows(cmd: Command): string[] {
  return cmd.options.filter((o) => o.long !== '--help').map((o) => `| \`${cell(o.flags)}\` | ${cell(o.description)} | ${o.mandatory ? 'required' : defaultOf(o)} |`);
}

function usage(cmd: Command): string {
  return cmd.registeredArguments.map((a) => (a.required ? `<${a.name()}${a.variadic ? '...' : ''}>` : `[${a.name()}${a.variadic ? '...' : ''}]`)).join(' ');
}

function pathOf(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function table(rows: string[]): string[] {
  return rows.length ? ['| flag | meaning | default |', '|---|---|---|', ...rows] : ['No flags.'];
}

function render(cmd: Command, out: string[]): void {
  const apart = (c: Command) => DOCUMENTED_APART.has(c.name()) && cmd.parent === null;
  const leaves = cmd.commands.filter((c) => c.commands.length === 0 && !apart(c));
  // Siblings with the same flags: one table, each command's line above it.
  const groups = new Map<string, Command[]>();
  for (const c of leaves) {
    const key = optionRows(c).join('\n');
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  for (const c of cmd.commands) {
    if (c.commands.length > 0) {
      if (!apart(c)) render(c, out);
      continue;
    }
    if (apart(c)) continue;
    const group = groups.get(optionRows(c).join('\n'))!;
    if (group[0] !== c) continue;
    if (group.length === 1) {
      out.push(`#### \`${[pathOf(c), usage(c)].filter(Boolean).join(' ')}\``, '', cell(c.description()), '');
    } else {
      out.push(`#### \`${pathOf(cmd)} ${group.map((g) => g.name()).join('|')}\``, '');
      for (const g of group) out.push(`- \`${[g.name(), usage(g)].filter(Boolean).join(' ')}\`: ${cell(g.description())}`);
      out.push('');
    }
    out.push(...table(optionRows(c)), '');
  }
}

export function cliReference(program: Command): string {
  const out: string[] = [];
  render(program, out);
  return out.join('\n').trimEnd() + '\n';
}
