// Builds dist/: one CommonJS bundle per entry, each run by src/compile-cache.ts with V8's code cache.
//  - armkit.cjs, the CLI: commands, execa and listr2 are still evaluated only when used (esbuild defers the
//    modules a dynamic import() names), and one file resolves once where ESM chunks each cost the loader a lookup;
//  - fast.cjs, the launcher's first look (is this build command up to date?), kept apart and tiny;
//  - compile-cache.cjs, the loader itself, which bin/armkit.js requires.
// A bundle starts much faster than hundreds of node_modules files resolved one by one (about 0.2 s here).

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { parseDocument } from 'yaml';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { armkit: 'src/cli.ts', fast: 'src/fast.ts', 'compile-cache': 'src/compile-cache.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // Less to read and parse the first time a command runs, before its code cache exists.
  minify: true,
  logLevel: 'warning',
  // The sources are ES modules: strict, and the package's files found from import.meta.url (src/paths.ts).
  define: { 'import.meta.url': '__armkitUrl' },
  banner: { js: `"use strict";const __armkitUrl=require("node:url").pathToFileURL(__filename).href;` },
});

// armkit's own recipes, parsed now, by the sha256 of their text (src/recipes/parsed.ts): planning a build with one
// of them needs neither yaml's parser nor its load. A recipe YAML cannot parse fails the build here.
const recipes = new URL('../recipes/', import.meta.url);
const bySha256 = {};
for (const file of readdirSync(recipes)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()) {
  const text = readFileSync(new URL(file, recipes), 'utf8');
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) throw new Error(`recipes/${file}: ${doc.errors[0].message}`);
  bySha256[createHash('sha256').update(text).digest('hex')] = doc.toJS();
}
writeFileSync(new URL('../dist/recipes.json', import.meta.url), `${JSON.stringify({ bySha256 })}\n`);
