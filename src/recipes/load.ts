/**
 * Finds a recipe by name (a user's --recipes directory first, then armkit's own), parses its YAML and validates it,
 * reporting the file and the field on any error.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ArmkitError, usageError } from '../errors.js';
import { BUILTIN_RECIPES } from '../paths.js';
import { kmodRecipeSchema, type KmodRecipe } from './schema.js';

export interface LoadedRecipe<T> {
  recipe: T;
  file: string;
}

export function findRecipeFile(name: string, userDirs: string[] = []): string {
  const dirs = [...userDirs, BUILTIN_RECIPES];
  for (const dir of dirs) {
    for (const ext of ['yaml', 'yml']) {
      const file = join(dir, `${name}.${ext}`);
      if (existsSync(file)) return file;
    }
  }
  throw usageError(`No recipe named "${name}" in ${dirs.join(', ')}.`);
}

export function parseRecipe<S extends z.ZodType>(schema: S, text: string, file: string): z.infer<S> {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ArmkitError('recipe', `Recipe ${file} is not valid YAML: ${doc.errors[0]!.message}`);
  }
  const result = schema.safeParse(doc.toJS());
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    throw new ArmkitError('recipe', `Recipe ${file} is invalid: ${problems[0]}`, { details: problems.slice(1) });
  }
  return result.data;
}

export function loadKmodRecipe(name: string, userDirs: string[] = []): LoadedRecipe<KmodRecipe> {
  const file = findRecipeFile(name, userDirs);
  return { recipe: parseRecipe(kmodRecipeSchema, readFileSync(file, 'utf8'), file), file };
}

/** The `kind:` of a recipe (kmod, spec), read before choosing which schema and command apply. */
export function recipeKind(name: string, userDirs: string[] = []): string {
  const file = findRecipeFile(name, userDirs);
  const kind = (parseDocument(readFileSync(file, 'utf8')).toJS() as { kind?: unknown } | null)?.kind;
  if (typeof kind !== 'string') throw new ArmkitError('recipe', `Recipe ${file} is invalid: kind: required (kmod or spec).`);
  return kind;
}
