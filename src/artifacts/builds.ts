/** Finding what earlier builds published under out/: the newest build of a recipe for an architecture. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Arch } from '../arch.js';
import { usageError } from '../errors.js';

/** The newest build of the recipe for the arch under the output root. */
export function latestBuild(outRoot: string, recipe: string, arch: Arch): string {
  const base = join(outRoot, recipe);
  const candidates = (existsSync(base) ? readdirSync(base) : [])
    .map((version) => join(base, version, arch.rpm))
    .filter((dir) => existsSync(join(dir, 'manifest.json')))
    .map((dir) => ({ dir, at: String((JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { createdAt?: string }).createdAt ?? '') }))
    .sort((a, b) => a.at.localeCompare(b.at));
  if (candidates.length === 0) {
    throw usageError(`No ${recipe} build for ${arch.rpm} under ${base}: run "armkit build ${recipe} --arch ${arch.rpm} ..." first, or pass --from DIR.`);
  }
  return candidates[candidates.length - 1]!.dir;
}
