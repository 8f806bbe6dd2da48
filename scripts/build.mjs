// Builds dist/: one ESM bundle per entry and lazily loaded chunk (commands, execa, listr2 load only when used).
// A bundle starts much faster than hundreds of node_modules files resolved one by one (about 0.2 s here).

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { parseDocument } from 'yaml';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: ['src/cli.ts', 'src/fast.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // Smaller chunks parse faster: start-up is most of an unchanged (cached) build's time.
  minify: true,
  logLevel: 'warning',
  // Bundled CommonJS dependencies (ejs) call require() for Node built-ins.
  banner: { js: "import { createRequire as __armkitRequire } from 'node:module'; const require = __armkitRequire(import.meta.url);" },
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
