/**
 * Finds a recipe by name (a user's --recipes directory first, then armkit's own), parses its YAML and validates it,
 * reporting the file and the field on any error.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ArmkitError, usageError } from '../errors.js';
import { BUILTIN_RECIPES } from '../paths.js';
import type * as z from '../zod.js';
import { shippedParse } from './parsed.js';
import { type KmodRecipe, kmodRecipeSchema } from './schema.js';
import { yaml } from './yaml.js';

export interface LoadedRecipe<T> {
  recipe: T;
  file: string;
}

/** Edit distance, for "did you mean" on a misspelt recipe name. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const here = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = here;
    }
  }
  return row[b.length]!;
}

/** The recipe names in the directories, user ones first. */
export function recipeNames(userDirs: string[] = []): string[] {
  return [
    ...new Set(
      [...userDirs, BUILTIN_RECIPES]
        .flatMap((d) => (existsSync(d) ? readdirSync(d) : []))
        .filter((f) => /\.ya?ml$/.test(f))
        .map((f) => f.replace(/\.ya?ml$/, '')),
    ),
  ];
}

export function findRecipeFile(name: string, userDirs: string[] = []): string {
  for (const dir of userDirs) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw usageError(`--recipes ${dir}: no such directory.`);
  }
  const dirs = [...userDirs, BUILTIN_RECIPES];
  for (const dir of dirs) {
    for (const ext of ['yaml', 'yml']) {
      const file = join(dir, `${name}.${ext}`);
      if (existsSync(file)) return file;
    }
  }
  const names = recipeNames(userDirs);
  const near = names.filter((n) => distance(n, name) <= Math.max(2, Math.floor(name.length / 3))).sort((a, b) => distance(a, name) - distance(b, name));
  throw usageError(
    `No recipe named "${name}" in ${dirs.join(', ')}${near.length ? `: did you mean ${near.map((n) => `"${n}"`).join(' or ')}?` : ` (there are: ${names.join(', ')}).`}`,
  );
}

/** Parsed YAML by file and text: a command that asks for a recipe's kind and then its content parses it once. */
const parsed = new Map<string, unknown>();

export function yamlOf(text: string, file: string): unknown {
  const key = `${file}\0${text}`;
  if (parsed.has(key)) return parsed.get(key);
  const shipped = shippedParse(text);
  if (shipped !== undefined) {
    parsed.set(key, shipped);
    return shipped;
  }
  const doc = yaml().parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ArmkitError('recipe', `Recipe ${file} is not valid YAML: ${doc.errors[0]!.message}`);
  }
  const value = doc.toJS();
  parsed.set(key, value);
  return value;
}

export function parseRecipe<S extends z.ZodMiniType>(schema: S, text: string, file: string): z.infer<S> {
  const result = schema.safeParse(yamlOf(text, file));
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
  const kind = (yamlOf(readFileSync(file, 'utf8'), file) as { kind?: unknown } | null)?.kind;
  if (typeof kind !== 'string') throw new ArmkitError('recipe', `Recipe ${file} is invalid: kind: required (kmod or spec).`);
  return kind;
}
