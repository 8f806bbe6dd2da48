/** Finding what earlier builds published under out/: the newest build of a recipe for an architecture. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Arch } from '../arch.js';
import { usageError } from '../errors.js';

/** The newest build of the recipe for the arch under the output root. */
interface BuildFacts {
  createdAt?: string;
  kernel?: { release?: string; spec?: string };
}

/**
 * The newest build of the recipe for the arch under the output root; with `kernel`, the newest built for that
 * kernel (its release, or the --kernel form it was built with, e.g. debian:latest).
 */
export function latestBuild(outRoot: string, recipe: string, arch: Arch, kernel?: string): string {
  const base = join(outRoot, recipe);
  const builds = (existsSync(base) ? readdirSync(base) : [])
    .map((version) => join(base, version, arch.rpm))
    .filter((dir) => existsSync(join(dir, 'manifest.json')))
    .map((dir) => ({ dir, facts: JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as BuildFacts }));
  const matching = builds
    .filter((b) => !kernel || b.facts.kernel?.release === kernel || b.facts.kernel?.spec === kernel)
    .sort((a, b) => String(a.facts.createdAt ?? '').localeCompare(String(b.facts.createdAt ?? '')));
  if (matching.length === 0) {
    const forKernel = kernel ? ` for kernel ${kernel}` : '';
    const others = kernel && builds.length ? ` (there are builds for ${builds.map((b) => b.facts.kernel?.release).join(', ')})` : '';
    throw usageError(`No ${recipe} build for ${arch.rpm}${forKernel} under ${base}${others}: run "armkit build ${recipe} --arch ${arch.rpm} ..." first, or pass --from DIR.`);
  }
  return matching[matching.length - 1]!.dir;
}
