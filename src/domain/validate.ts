import type { z } from 'zod';
import { BosunError } from './errors.js';

/** Parses with the action's schema; the error names every offending field and what was expected. */
export function validate<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => {
    const path = i.path.map(String).join('.');
    if (i.code === 'unrecognized_keys') {
      const keys = (i as { keys?: string[] }).keys ?? [];
      return { field: keys.map((k) => (path ? `${path}.${k}` : k)).join(', '), message: `unknown field${keys.length > 1 ? 's' : ''} (check the spelling)` };
    }
    return { field: path || '(body)', message: i.message };
  });
  const first = issues[0];
  const text = issues.map((i) => `${i.field}: ${i.message}`).join('; ');
  throw new BosunError('invalid_message', text, { retryable: false, details: { issues }, ...(first ? { field: first.field } : {}) });
}
