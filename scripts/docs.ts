/** npm run docs: rewrites the README's generated reference blocks from the code. */
import { readFileSync, writeFileSync } from 'node:fs';
import { generatedBlocks, writeBlock } from '../src/app/readme-blocks.js';

const path = new URL('../README.md', import.meta.url);
let readme = readFileSync(path, 'utf8');
for (const [name, text] of Object.entries(await generatedBlocks())) readme = writeBlock(readme, name, text);
writeFileSync(path, readme);
console.log('README.md: generated blocks written');
