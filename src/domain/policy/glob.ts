/** The policy files' globs: `*` is any run of characters, every other character is itself. */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\?]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

export const globMatches = (glob: string, value: string): boolean => globToRegExp(glob).test(value);
