import { readFile } from 'node:fs/promises';
import YAML from 'yaml';
import { BosunError } from '../domain/errors.js';
import { DEFAULT_POLICY, PolicySchema, type Policy } from '../domain/policy.js';
import { validate } from '../domain/validate.js';

/** Loads a policy file (YAML or JSON); no file means the safe default. */
export async function loadPolicy(path: string | undefined): Promise<Policy> {
  if (!path) return DEFAULT_POLICY;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new BosunError('invalid_message', `cannot read policy file ${path}: ${(e as Error).message}`, { field: 'policy' });
  }
  try {
    return validate(PolicySchema, YAML.parse(text) ?? {});
  } catch (e) {
    throw new BosunError('invalid_message', `policy file ${path}: ${(e as Error).message}`, { field: 'policy', cause: e });
  }
}
