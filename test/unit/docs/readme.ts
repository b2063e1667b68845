/** The README as the docs tests read it: its sections and their table rows. */
import { readFileSync } from 'node:fs';

export const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

/** From `heading` to the next heading of level 2 or 3. */
export function section(heading: string): string {
  const start = readme.indexOf(heading);
  if (start < 0) throw new Error(`README has no "${heading}" section`);
  const next = readme.slice(start + heading.length).search(/\n#{2,3} /);
  return readme.slice(start, next < 0 ? undefined : start + heading.length + next);
}

/** The rows of the tables in `text` whose first cell starts with a code span, as cells (`\|` stays in its cell; cell 1 is the first column). */
export function tableRows(text: string): string[][] {
  return text.split('\n').filter((l) => /^\| `/.test(l)).map((l) => l.split(/(?<!\\)\|/));
}
