#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm install`/`npm ci` through the prepare script), run
// with V8's code cache (dist/compile-cache.cjs, from src/compile-cache.ts). An unchanged build command is answered
// from its up-to-date stamp before the CLI loads (dist/fast.cjs).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const dist = new URL('../dist/', import.meta.url);
if (!existsSync(new URL('armkit.cjs', dist))) {
  process.stderr.write('armkit is not built yet: run "npm ci" (or "npm run build") in the armkit checkout first.\n');
  process.exit(4);
}
const require = createRequire(import.meta.url);
const { commandSlot, runBundle } = require('../dist/compile-cache.cjs');
const slot = commandSlot(process.argv);
if (runBundle(fileURLToPath(new URL('fast.cjs', dist)), 'fast').exports.upToDate(process.argv)) process.exit(0);
runBundle(fileURLToPath(new URL('armkit.cjs', dist)), slot);
