/** A source served over the network to armkit: the fixture module as a tarball, a recipe that downloads it. */

import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { FIXTURE_MODULE, ROOT, TEST_CACHE, tempDir } from './cli.js';

/** The fixture module packed as mini-0.1.tar.gz (topdir cryptodev-mini-0.1), and its sha256. */
export async function fixtureTarball(): Promise<{ tarball: string; sha: string }> {
  const tarball = join(tempDir('served'), 'mini-0.1.tar.gz');
  await execa('tar', ['-czf', tarball, '--transform', 's,^\\.,cryptodev-mini-0.1,', '-C', FIXTURE_MODULE, '.']);
  return { tarball, sha: String((await execa('sha256sum', [tarball])).stdout).split(' ')[0]! };
}

/** A recipes directory whose cryptodev recipe has one source: the fixture tarball at `url`. */
export function recipeServedFrom(url: string, sha256: string): string {
  const dir = tempDir('served-recipes');
  const recipe = readFileSync(join(ROOT, 'recipes/cryptodev.yaml'), 'utf8');
  const source = [
    'sources:',
    '  - version: "0.1"',
    `    url: ${url}`,
    '    file: mini-0.1.tar.gz',
    `    sha256: ${sha256}`,
    '    topdir: cryptodev-mini-0.1',
    '    kernels: ">=3.0.0"',
    '    date: "2026-01-01"',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'cryptodev.yaml'), recipe.slice(0, recipe.indexOf('sources:')) + source + recipe.slice(recipe.indexOf('module:')));
  return dir;
}

/** A cache of its own (no source in it) that shares the suite's kernel headers and apt indexes. */
export function cacheWithHeaders(): string {
  const cache = tempDir('served-cache');
  // The suite's shared header and index state, made here when this file runs before any build filled it.
  for (const d of ['kernels', 'apt']) {
    mkdirSync(join(TEST_CACHE, d), { recursive: true });
    symlinkSync(join(TEST_CACHE, d), join(cache, d));
  }
  return cache;
}
