/** The engines, by name: the one place a name becomes an engine. */
import { usageError } from '../errors.js';
import { coprEngine } from './copr.js';
import { ENGINE_NAMES, type Engine, type EngineName } from './engine.js';
import { localEngine } from './local.js';
import { mockEngine } from './mock.js';

export const ENGINES: Record<EngineName, Engine> = { local: localEngine, mock: mockEngine, copr: coprEngine };

/** The engine a user named with --engine (local when none). */
export function engineNamed(value: string | undefined): EngineName {
  const name = (value ?? 'local') as EngineName;
  if (!ENGINE_NAMES.includes(name)) throw usageError(`--engine ${value}: expected ${ENGINE_NAMES.join(', ')}.`);
  return name;
}
