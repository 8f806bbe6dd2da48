// Prints the README's quick-start commands, one per line: the command lines of the first ```sh block under
// "## Quick start". CI runs exactly these, so the README cannot promise what CI does not check.
import { readFileSync } from 'node:fs';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const section = readme.split(/^## Quick start$/m)[1]?.split(/^## /m)[0] ?? '';
const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
if (!block) {
  console.error('README.md has no ```sh block under "## Quick start"');
  process.exit(1);
}
for (const line of block.split('\n')) if (line.trim() && !line.trim().startsWith('#')) console.log(line.trim());
