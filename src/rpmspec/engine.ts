/**
 * Which engine a version gets, from the recipe's series: the Configure flags and how the engine ships, or a refusal
 * that says why and what would work instead.
 */
import { mismatch } from '../errors.js';
import type { EngineSeries, OpensslRecipe } from '../recipes/openssl.js';
import { inRange, type OpensslVersion, seriesOf } from './version.js';

export interface EngineChoice extends EngineSeries {
  /** "3.x", "1.1.x", "1.0.x". */
  series: string;
  /** The command that shows whether the engine loads on the target. */
  check: string;
}

export function engineCheckCommand(engine: string): string {
  return `openssl engine -t -c ${engine}`;
}

export function chooseEngine(recipe: OpensslRecipe, version: OpensslVersion): EngineChoice {
  const match = recipe.series.find((s) => inRange(version, s.versions));
  if (!match) {
    throw mismatch(`OpenSSL ${version.text} is in none of the series of the openssl recipe (${recipe.series.map((s) => s.versions).join(', ')}).`);
  }
  if ('refuse' in match) {
    throw mismatch(`OpenSSL ${version.text} cannot be built with a /dev/crypto engine: ${match.refuse}`, [match.instead]);
  }
  return { ...match, series: seriesOf(version), check: engineCheckCommand(match.engine) };
}
