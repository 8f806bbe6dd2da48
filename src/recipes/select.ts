/** Chooses which of a recipe's sources to build: by --version, else by the kernel's version. */
import semver from 'semver';
import { usageError } from '../errors.js';
import type { KmodRecipe, RecipeSource } from './schema.js';

export function selectSource(recipe: KmodRecipe, kernelVersion: string, requested?: string): RecipeSource {
  if (requested) {
    const source = recipe.sources.find((s) => s.version === requested);
    if (!source) {
      throw usageError(`Recipe ${recipe.name} has no version "${requested}"; it has ${recipe.sources.map((s) => s.version).join(', ')}.`);
    }
    return source;
  }
  const version = semver.coerce(kernelVersion)?.version;
  const source = version ? recipe.sources.find((s) => semver.satisfies(version, s.kernels)) : undefined;
  if (!source) {
    throw usageError(
      `No source in recipe ${recipe.name} supports Linux ${kernelVersion} (` +
        recipe.sources.map((s) => `${s.version}: ${s.kernels}`).join('; ') +
        '). Pick one with --version, or add a source to the recipe.',
    );
  }
  return source;
}
