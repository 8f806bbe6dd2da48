#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm install`/`npm ci` through the prepare script).
// An unchanged build command is answered from its up-to-date stamp before the CLI loads (dist/fast.js).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('armkit is not built yet: run "npm ci" (or "npm run build") in the armkit checkout first.\n');
  process.exit(4);
}
const fast = new URL('../dist/fast.js', import.meta.url);
if (existsSync(fast) && (await import(fast.href)).upToDate(process.argv)) process.exit(0);
await import(entry.href);
