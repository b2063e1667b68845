#!/usr/bin/env node
// Entry point of the `bosun` command: runs the compiled CLI (npm ci builds it via `prepare`).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = join(root, 'dist', 'app', 'cli.js');
if (!existsSync(compiled)) {
  console.error('bosun: not built yet; run `npm ci` (or `npm run build`) in ' + root);
  process.exit(2);
}
await import(pathToFileURL(compiled).href);
