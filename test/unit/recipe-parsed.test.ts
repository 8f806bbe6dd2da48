/**
 * armkit's own recipes ship parsed (dist/recipes.json, by the sha256 of their text), so planning a build with one
 * of them neither loads nor runs yaml; any other text is parsed as before. `npm test` builds dist/ first.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { BUILTIN_RECIPES, PACKAGE_ROOT } from '../../src/paths.js';
import { PARSED_RECIPES, shippedParse } from '../../src/recipes/parsed.js';

const recipes = readdirSync(BUILTIN_RECIPES).filter((f) => f.endsWith('.yaml'));

describe('shipped recipe parses', () => {
  it('dist/recipes.json exists (npm run build writes it)', () => {
    expect(existsSync(PARSED_RECIPES), `${PARSED_RECIPES} is missing: run npm run build`).toBe(true);
  });

  it.each(recipes)('%s: the shipped value is what yaml parses from its text', (file) => {
    const text = readFileSync(join(BUILTIN_RECIPES, file), 'utf8');
    expect(shippedParse(text), `${file} is not in dist/recipes.json: it changed since the build (npm run build)`).toEqual(parseDocument(text).toJS());
  });

  it('any other text (one byte added) is not shipped, and each answer is a copy callers may change', () => {
    const text = readFileSync(join(BUILTIN_RECIPES, 'cryptodev.yaml'), 'utf8');
    expect(shippedParse(`${text}\n`)).toBeUndefined();
    const a = shippedParse(text) as { name: string };
    a.name = 'changed';
    expect((shippedParse(text) as { name: string }).name).toBe('cryptodev');
  });
});

describe('the yaml package is loaded only for text that is not shipped', () => {
  // A require hook that reports every load of the yaml package on stderr.
  const hook = join(mkdtempSync(join(tmpdir(), 'armkit-yaml-hook-')), 'hook.cjs');
  writeFileSync(
    hook,
    "const M = require('module'); const load = M._load; M._load = function (r, ...a) { if (r === 'yaml') process.stderr.write('LOADED yaml\\n'); return load.call(this, r, ...a); };\n",
  );
  const plan = (extra: string[]) =>
    spawnSync(process.execPath, ['--require', hook, join(PACKAGE_ROOT, 'bin/armkit.js'), 'recipe', 'show', 'cryptodev', '--json', ...extra], {
      encoding: 'utf8',
      env: { ...process.env, CI: 'true' },
    });

  it('the bundle holds none of yaml: it is required at run time, only when needed', () => {
    const dist = join(PACKAGE_ROOT, 'dist');
    const chunks = readdirSync(dist).filter((f) => f.endsWith('.cjs'));
    expect(chunks.length).toBeGreaterThan(0);
    // yaml's own error class name, a string its code keeps through minifying.
    expect(chunks.filter((f) => readFileSync(join(dist, f), 'utf8').includes('YAMLParseError'))).toEqual([]);
  });

  it("armkit's own recipe: no yaml; an edited copy in --recipes: yaml parses it, with the same result", () => {
    const own = plan([]);
    expect(own.status, own.stderr).toBe(0);
    expect(own.stderr).not.toContain('LOADED yaml');
    const dir = mkdtempSync(join(tmpdir(), 'armkit-recipes-'));
    cpSync(join(BUILTIN_RECIPES, 'cryptodev.yaml'), join(dir, 'cryptodev.yaml'));
    writeFileSync(join(dir, 'cryptodev.yaml'), `# a user's copy\n${readFileSync(join(dir, 'cryptodev.yaml'), 'utf8')}`);
    const copy = plan(['--recipes', dir]);
    expect(copy.status, copy.stderr).toBe(0);
    expect(copy.stderr).toContain('LOADED yaml');
    expect(JSON.parse(copy.stdout).recipe).toEqual(JSON.parse(own.stdout).recipe);
  });
});
