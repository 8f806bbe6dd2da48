/**
 * What goes into the repository: every package of every build published under out/ (found by its manifest.json),
 * and where each is placed. Placing is pure: binary packages in the repository of their architecture, noarch
 * packages in that of the build they came with, source RPMs in the source repository (a kmod's source RPM names
 * its kernel in the spec, so each kernel's has a directory of its own).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { type Manifest, readManifest } from '../manifest.js';
import { basearch, SOURCE_REPO } from './layout.js';

export interface Build {
  dir: string;
  manifest: Manifest;
}

export interface BuiltPackage {
  /** The file under out/. */
  path: string;
  file: string;
  name: string;
  version: string;
  release: string;
  arch: string;
  sha256: string;
  size: number;
  build: { dir: string; recipe: string; arch: string; kernel?: string; createdAt: string };
}

export interface Placement {
  /** The repository: a `$basearch` directory, or `src`. */
  repo: string;
  /** Path inside that repository. */
  rel: string;
  pkg: BuiltPackage;
}

const isUnder = (path: string, dir: string) => {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep));
};

/**
 * The builds under the output root: out/<recipe>/<version>/<arch>/ and out/<recipe>/<version>/<arch>/<kernel>/
 * with a manifest.json. Directories being published (dot names) and `skip` (the repository itself) are left out;
 * a manifest armkit cannot read is reported, not taken.
 */
export function findBuilds(outRoot: string, skip: string[] = []): { builds: Build[]; unreadable: string[] } {
  const builds: Build[] = [];
  const unreadable: string[] = [];
  const skipped = skip.map((s) => resolve(s));
  const walk = (dir: string, depth: number) => {
    if (skipped.some((s) => isUnder(resolve(dir), s))) return;
    if (depth >= 3 && existsSync(join(dir, 'manifest.json'))) {
      try {
        builds.push({ dir, manifest: readManifest(dir) });
      } catch (error) {
        unreadable.push(`${dir}: ${(error as Error).message}`);
      }
    }
    if (depth >= 4) return;
    for (const name of existsSync(dir) ? readdirSync(dir).sort() : []) {
      if (name.startsWith('.') || name === 'logs') continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path, depth + 1);
    }
  };
  walk(outRoot, 0);
  return { builds, unreadable };
}

export function packagesOf(builds: Build[]): BuiltPackage[] {
  return builds.flatMap(({ dir, manifest }) =>
    manifest.artifacts
      .filter((a) => a.file.endsWith('.rpm'))
      .map(
        (a): BuiltPackage => ({
          path: join(dir, a.file),
          file: a.file,
          name: a.name,
          version: a.version,
          release: a.release,
          arch: a.arch,
          sha256: a.sha256,
          size: a.size,
          build: {
            dir,
            recipe: manifest.recipe,
            arch: manifest.arch,
            ...(manifest.kind === 'kmod' && manifest.kernel ? { kernel: manifest.kernel.release } : {}),
            createdAt: manifest.createdAt,
          },
        }),
      ),
  );
}

/** Where a package goes. */
export function placeOf(pkg: BuiltPackage): { repo: string; rel: string } {
  if (pkg.arch === 'src') return { repo: SOURCE_REPO, rel: pkg.build.kernel ? `Packages/${pkg.build.kernel}/${pkg.file}` : `Packages/${pkg.file}` };
  return { repo: basearch(pkg.arch === 'noarch' ? pkg.build.arch : pkg.arch), rel: `Packages/${pkg.file}` };
}

/**
 * Every package's place, once. Two builds that give the same file at one place (the noarch header package of
 * two kernels' builds) give it once when the bytes are the same; when they differ, the newer build's is taken
 * and the warning says which.
 */
export function placePackages(packages: BuiltPackage[]): { placements: Placement[]; warnings: string[] } {
  const byPlace = new Map<string, Placement[]>();
  for (const pkg of packages) {
    const place = placeOf(pkg);
    const key = `${place.repo}/${place.rel}`;
    byPlace.set(key, [...(byPlace.get(key) ?? []), { ...place, pkg }]);
  }
  const warnings: string[] = [];
  const placements: Placement[] = [];
  for (const [key, candidates] of [...byPlace.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const newest = [...candidates].sort((a, b) => b.pkg.build.createdAt.localeCompare(a.pkg.build.createdAt) || a.pkg.path.localeCompare(b.pkg.path));
    const chosen = newest[0]!;
    const differing = newest.filter((c) => c.pkg.sha256 !== chosen.pkg.sha256);
    if (differing.length > 0) {
      warnings.push(
        `${key}: the builds in ${[chosen, ...differing].map((c) => c.pkg.build.dir).join(', ')} made different files of that name; the repository takes the newest (${chosen.pkg.build.dir}).`,
      );
    }
    placements.push(chosen);
  }
  return { placements, warnings };
}

/** The repositories that will exist, in order: the architectures', then the source repository. */
export function repositoriesOf(placements: Placement[]): string[] {
  const repos = [...new Set(placements.map((p) => p.repo))].sort();
  return [...repos.filter((r) => r !== SOURCE_REPO), ...repos.filter((r) => r === SOURCE_REPO)];
}
