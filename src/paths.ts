/** Where armkit's own files are (recipes, templates) and where it keeps its cache. */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: dist/paths.js and src/paths.ts both sit one level below it. */
export const PACKAGE_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
export const BUILTIN_RECIPES = join(PACKAGE_ROOT, 'recipes');
export const TEMPLATES = join(PACKAGE_ROOT, 'templates');

/** ARMKIT_CACHE_DIR, else $XDG_CACHE_HOME/armkit, else ~/.cache/armkit. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ARMKIT_CACHE_DIR) return resolve(env.ARMKIT_CACHE_DIR);
  return join(env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache'), 'armkit');
}
