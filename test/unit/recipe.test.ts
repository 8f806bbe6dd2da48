import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_RECIPES } from '../../src/paths.js';
import { findRecipeFile, loadKmodRecipe, parseRecipe } from '../../src/recipes/load.js';
import { type KmodRecipe, kmodRecipeSchema } from '../../src/recipes/schema.js';
import { selectSource } from '../../src/recipes/select.js';
import { catchArmkit, tempDir, writeTree } from './helpers.js';

const SHIPPED = join(BUILTIN_RECIPES, 'cryptodev.yaml');
const shippedText = () => readFileSync(SHIPPED, 'utf8');
const SNAPSHOT = '1.14^20251105git08644db';

describe('the shipped cryptodev recipe', () => {
  it('loads and validates', () => {
    const { recipe, file } = loadKmodRecipe('cryptodev');
    expect(file).toBe(SHIPPED);
    expect(recipe).toMatchObject({
      name: 'cryptodev',
      kind: 'kmod',
      package: 'cryptodev-linux',
      license: 'GPL-2.0-only',
      licenseFiles: ['COPYING'],
      release: 1,
      module: { name: 'cryptodev', built: 'cryptodev.ko', installDir: 'cryptodev', autoload: true },
      make: { target: 'build', vars: { kernelDir: 'KERNEL_DIR', arch: 'ARCH', crossCompile: 'CROSS_COMPILE' } },
      headers: [{ from: 'crypto/cryptodev.h', to: 'crypto/cryptodev.h' }],
    });
  });

  it('pins 1.14 and the 08644db snapshot by sha256', () => {
    const { recipe } = loadKmodRecipe('cryptodev');
    expect(recipe.sources.map((s) => s.version)).toEqual(['1.14', SNAPSHOT]);
    expect(recipe.sources[0]).toMatchObject({
      version: '1.14',
      sha256: '67223d5bee4749028e78e87372cee3bca79d9a20f7b6cb915aa080c59d2a2d98',
      file: 'cryptodev-linux-1.14.tar.gz',
      topdir: 'cryptodev-linux-cryptodev-linux-1.14',
      kernels: '<6.11.0',
    });
    expect(recipe.sources[1]).toMatchObject({
      version: SNAPSHOT,
      sha256: 'e795acb85118f1f39f0155df8fd28a3d79de7d1240b91bdf8cc9e2a1747d2642',
      kernels: '>=6.11.0',
    });
    expect(recipe.sources[1]!.url).toContain('08644db02d43478f802755903212f5ee506af73b');
  });
});

describe('selectSource', () => {
  const recipe = (): KmodRecipe => loadKmodRecipe('cryptodev').recipe;

  it.each([
    ['6.1.192', '1.14'],
    ['6.10.0', '1.14'],
    ['5.10.0', '1.14'],
    ['6.11.0', SNAPSHOT],
    ['6.12.41', SNAPSHOT],
    ['6.18.3', SNAPSHOT],
  ])('picks the source for Linux %s: %s', (kernel, version) => {
    expect(selectSource(recipe(), kernel).version).toBe(version);
  });

  it('takes a two-part kernel version', () => {
    expect(selectSource(recipe(), '6.11').version).toBe(SNAPSHOT);
    expect(selectSource(recipe(), '6.10').version).toBe('1.14');
  });

  it('lets --version override the kernel', () => {
    expect(selectSource(recipe(), '6.18.3', '1.14').version).toBe('1.14');
    expect(selectSource(recipe(), '6.1.192', SNAPSHOT).version).toBe(SNAPSHOT);
  });

  it('refuses an unknown --version, listing the versions', () => {
    const error = catchArmkit(() => selectSource(recipe(), '6.1.192', '1.13'));
    expect(error.kind).toBe('usage');
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('"1.13"');
    expect(error.message).toContain(`1.14, ${SNAPSHOT}`);
  });

  it('refuses a kernel no source supports', () => {
    const narrowed: KmodRecipe = { ...recipe(), sources: [recipe().sources[0]!] };
    const error = catchArmkit(() => selectSource(narrowed, '6.12.0'));
    expect(error.kind).toBe('usage');
    expect(error.message).toContain('Linux 6.12.0');
    expect(error.message).toContain('1.14: <6.11.0');
  });
});

describe('parseRecipe', () => {
  const file = '/recipes/broken.yaml';

  it('reports a bad sha256 with the file and the field path', () => {
    const text = shippedText().replace('sha256: 67223d5bee4749028e78e87372cee3bca79d9a20f7b6cb915aa080c59d2a2d98', 'sha256: 67223D5B');
    const error = catchArmkit(() => parseRecipe(kmodRecipeSchema, text, file));
    expect(error.kind).toBe('recipe');
    expect(error.exitCode).toBe(3);
    expect(error.message).toContain(file);
    expect(error.message).toContain('sources.0.sha256');
    expect(error.message).toContain('64 lowercase hex digits');
  });

  it('reports a missing field by name', () => {
    const text = shippedText().replace(/^summary:.*\n/m, '');
    const error = catchArmkit(() => parseRecipe(kmodRecipeSchema, text, file));
    expect(error.kind).toBe('recipe');
    expect(error.message).toContain(file);
    expect(error.message).toContain('summary:');
  });

  it('reports a nested field', () => {
    const text = shippedText().replace('  autoload: true', '  autoload: "yes"');
    const error = catchArmkit(() => parseRecipe(kmodRecipeSchema, text, file));
    expect(error.message).toContain('module.autoload');
  });

  it('refuses a version RPM would not accept', () => {
    const text = shippedText().replace('version: "1.14"', 'version: "1.14-rc1"');
    const error = catchArmkit(() => parseRecipe(kmodRecipeSchema, text, file));
    expect(error.kind).toBe('recipe');
    expect(error.message).toContain('sources.0.version');
  });

  it('refuses an unknown key (recipes are strict)', () => {
    const error = catchArmkit(() => parseRecipe(kmodRecipeSchema, `${shippedText()}\nbuildCommand: rm -rf /\n`, file));
    expect(error.kind).toBe('recipe');
    expect(error.message).toContain('buildCommand');
  });

  it('lists further problems as details', () => {
    const text = shippedText()
      .replace(/^summary:.*\n/m, '')
      .replace(/^homepage:.*\n/m, '');
    const error = catchArmkit(() => parseRecipe(kmodRecipeSchema, text, file));
    expect([error.message, ...error.details].join('\n')).toMatch(/summary[\s\S]*homepage|homepage[\s\S]*summary/);
    expect(error.details.length).toBeGreaterThanOrEqual(1);
  });

  it('reports bad YAML with the file', () => {
    const error = catchArmkit(() => parseRecipe(kmodRecipeSchema, 'name: cryptodev\nsources: [unclosed\n', file));
    expect(error.kind).toBe('recipe');
    expect(error.message).toContain(`Recipe ${file} is not valid YAML`);
  });

  it('reports an empty document at the top level', () => {
    const error = catchArmkit(() => parseRecipe(kmodRecipeSchema, '', file));
    expect(error.kind).toBe('recipe');
    expect(error.message).toContain('(top level)');
  });

  it('fills defaults for optional lists', () => {
    const text = shippedText()
      .replace(/^licenseFiles:.*\n/m, '')
      .replace(/^headers:\n( {2}.*\n)+/m, '');
    const recipe = parseRecipe(kmodRecipeSchema, text, file);
    expect(recipe.licenseFiles).toEqual([]);
    expect(recipe.headers).toEqual([]);
  });
});

describe('findRecipeFile', () => {
  it('prefers a user recipes directory over the built-in one', () => {
    const dir = writeTree(tempDir(), { 'cryptodev.yaml': shippedText().replace('release: 1', 'release: 7') });
    expect(findRecipeFile('cryptodev', [dir])).toBe(join(dir, 'cryptodev.yaml'));
    expect(loadKmodRecipe('cryptodev', [dir]).recipe.release).toBe(7);
  });

  it('finds a .yml file and falls back to the built-in recipes', () => {
    const dir = writeTree(tempDir(), { 'other.yml': 'x: 1\n' });
    expect(findRecipeFile('other', [dir])).toBe(join(dir, 'other.yml'));
    expect(findRecipeFile('cryptodev', [dir])).toBe(SHIPPED);
  });

  it('refuses an unknown recipe, naming the directories searched', () => {
    const dir = tempDir();
    const error = catchArmkit(() => findRecipeFile('openssl-nope', [dir]));
    expect(error.kind).toBe('usage');
    expect(error.message).toContain('"openssl-nope"');
    expect(error.message).toContain(dir);
    expect(error.message).toContain(BUILTIN_RECIPES);
  });

  it('reports an invalid user recipe with its own path', () => {
    const dir = writeTree(tempDir(), { 'cryptodev.yaml': shippedText().replace('kind: kmod', 'kind: rpm') });
    const error = catchArmkit(() => loadKmodRecipe('cryptodev', [dir]));
    expect(error.kind).toBe('recipe');
    expect(error.message).toContain(join(dir, 'cryptodev.yaml'));
    expect(error.message).toContain('kind');
  });
});
