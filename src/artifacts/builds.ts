/**
 * Finding what earlier builds published under out/: out/<recipe>/<version>/<arch>/ (spec recipes) and
 * out/<recipe>/<version>/<arch>/<kernel release>/ (kmod recipes, one directory per kernel).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Arch } from '../arch.js';
import { usageError } from '../errors.js';
import { type Manifest, readManifest } from '../manifest.js';

/** Every build of a recipe for an arch under the output root, with its manifest (unreadable ones left out). */
export function buildsOf(outRoot: string, recipe: string, arch: Arch): Array<{ dir: string; manifest: Manifest }> {
  const base = join(outRoot, recipe);
  const dirs: string[] = [];
  for (const version of existsSync(base) ? readdirSync(base) : []) {
    const archDir = join(base, version, arch.rpm);
    if (!existsSync(archDir) || !statSync(archDir).isDirectory()) continue;
    if (existsSync(join(archDir, 'manifest.json'))) dirs.push(archDir);
    for (const kernel of readdirSync(archDir)) {
      if (!kernel.startsWith('.') && existsSync(join(archDir, kernel, 'manifest.json'))) dirs.push(join(archDir, kernel));
    }
  }
  return dirs.flatMap((dir) => {
    try {
      return [{ dir, manifest: readManifest(dir) }];
    } catch {
      return [];
    }
  });
}

/**
 * The newest build of the recipe for the arch under the output root; with `kernel`, the newest built for that
 * kernel (its release, or the --kernel form it was built with, e.g. debian:latest).
 */
export function latestBuild(outRoot: string, recipe: string, arch: Arch, kernel?: string): string {
  const builds = buildsOf(outRoot, recipe, arch);
  const matching = builds
    .filter((b) => !kernel || b.manifest.kernel?.release === kernel || b.manifest.kernel?.spec === kernel)
    .sort((a, b) => a.manifest.createdAt.localeCompare(b.manifest.createdAt));
  if (matching.length === 0) {
    const forKernel = kernel ? ` for kernel ${kernel}` : '';
    const others = kernel && builds.length ? ` (there are builds for ${builds.map((b) => b.manifest.kernel?.release).join(', ')})` : '';
    throw usageError(
      `No ${recipe} build for ${arch.rpm}${forKernel} under ${join(outRoot, recipe)}${others}: run "armkit build ${recipe} --arch ${arch.rpm} ..." first, or pass --from DIR.`,
    );
  }
  return matching[matching.length - 1]!.dir;
}
