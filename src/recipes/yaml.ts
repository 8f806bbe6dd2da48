/**
 * The yaml package, loaded on first use. Most commands read only armkit's own recipes, whose parsed form the build
 * ships (parsed.ts), so yaml's load (about 20 ms, the largest part of planning a build) is paid only for a user's
 * recipe, an edited one, or a command that writes YAML. createRequire keeps it a plain runtime dependency: the
 * bundle does not hold it.
 */
import { createRequire } from 'node:module';

type Yaml = typeof import('yaml');
let loaded: Yaml | undefined;

export function yaml(): Yaml {
  loaded ??= createRequire(import.meta.url)('yaml') as Yaml;
  return loaded;
}
