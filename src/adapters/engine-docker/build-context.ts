import { readdir, stat } from 'node:fs/promises';
import { BosunError } from '../../domain/errors.js';

/** dockerode packs `{context, src}` itself (honouring .dockerignore); src lists the top-level entries. */
export async function buildContextTar(contextDir: string): Promise<{ context: string; src: string[] }> {
  try {
    const st = await stat(contextDir);
    if (!st.isDirectory()) throw new Error('not a directory');
  } catch (e) {
    throw new BosunError('invalid_message', `build context ${contextDir} is not a readable directory`, { field: 'context', cause: e });
  }
  return { context: contextDir, src: await readdir(contextDir) };
}
