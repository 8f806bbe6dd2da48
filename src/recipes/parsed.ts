/**
 * armkit's own recipes as YAML parsed them when armkit was built (scripts/build.mjs writes dist/recipes.json), by
 * the sha256 of their text: a recipe whose text is byte for byte one of them is that value, without loading or
 * running the YAML parser. Any other text (a user's recipe, an edited one, a checkout not built yet) is undefined,
 * and the caller parses it.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../paths.js';

export const PARSED_RECIPES = join(PACKAGE_ROOT, 'dist', 'recipes.json');

export interface ParsedRecipes {
  /** sha256 of a recipe's text → the YAML document as plain JSON (yaml's toJS). */
  bySha256: Record<string, unknown>;
}

let shipped: ParsedRecipes | undefined;

function read(): ParsedRecipes {
  try {
    if (existsSync(PARSED_RECIPES)) {
      const value = JSON.parse(readFileSync(PARSED_RECIPES, 'utf8')) as Partial<ParsedRecipes>;
      if (value && typeof value.bySha256 === 'object' && value.bySha256) return { bySha256: value.bySha256 };
    }
  } catch {
    // A damaged file only costs the parse it would have saved.
  }
  return { bySha256: {} };
}

export const textSha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export function shippedParse(text: string): unknown {
  shipped ??= read();
  const sha = textSha256(text);
  const value = Object.hasOwn(shipped.bySha256, sha) ? shipped.bySha256[sha] : undefined;
  // A copy: callers (zod's defaults, the DKMS preprocessing) must not change the shared value.
  return value === undefined ? undefined : structuredClone(value);
}
