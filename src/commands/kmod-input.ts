/**
 * Everything `build` and `install` learn from the outside world before planning: the recipe, the architecture and
 * mode, the cross toolchain on this host, the kernel headers and the source. Planning itself is pure.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { findArch, type Arch } from '../arch.js';
import { missing, usageError } from '../errors.js';
import type { Host } from '../host.js';
import { resolveKernel } from '../kernel/resolve.js';
import { defaultCacheDir } from '../paths.js';
import type { KmodPlanInput, Mode, SourceInput } from '../plan/cryptodev.js';
import { chooseCross, installHint } from '../prereqs.js';
import { loadKmodRecipe } from '../recipes/load.js';
import type { KmodRecipe } from '../recipes/schema.js';
import { selectSource } from '../recipes/select.js';
import { sha256File } from '../artifacts/hash.js';
import type { Runner } from '../run/runner.js';
import { ARCHES } from '../arch.js';

export interface KmodOptions {
  arch?: string;
  mode?: string;
  kernel?: string;
  source?: string;
  version?: string;
  recipes?: string[];
  cacheDir?: string;
}

export interface Env {
  host: Host;
  runner: Runner;
  warn(message: string): void;
  armkitVersion: string;
  now: Date;
}

export function chooseArchAndMode(options: Pick<KmodOptions, 'arch' | 'mode'>, host: Host): { arch: Arch; mode: Mode } {
  const arch = options.arch ? findArch(options.arch) : host.arch;
  if (!arch) throw usageError(`armkit does not know this host's architecture (${host.machine}); pass --arch.`);
  if (options.mode !== undefined && options.mode !== 'native' && options.mode !== 'cross') {
    throw usageError(`--mode ${options.mode}: expected native or cross.`);
  }
  const mode: Mode = (options.mode as Mode | undefined) ?? (arch === host.arch ? 'native' : 'cross');
  if (mode === 'native' && arch !== host.arch) {
    throw usageError(`A native build for ${arch.rpm} must run on a ${arch.rpm} machine (this one is ${host.machine}); use --mode cross.`);
  }
  return { arch, mode };
}

/** The single top directory of a source tarball, which rpm's %setup -n needs. */
async function tarballTopdir(path: string): Promise<string> {
  const tar = await import('tar');
  const tops = new Set<string>();
  await tar.t({ file: path, onReadEntry: (entry) => void tops.add(entry.path.replace(/^\.\//, '').split('/')[0]!) });
  tops.delete('');
  tops.delete('pax_global_header');
  if (tops.size !== 1) throw usageError(`--source ${path}: expected one top directory in the archive, found ${[...tops].join(', ') || 'none'}.`);
  return [...tops][0]!;
}

async function chooseSource(options: KmodOptions, recipe: KmodRecipe, recipeSelect: () => string, source: () => SourceInput): Promise<SourceInput> {
  if (!options.source) return source();
  const path = resolve(options.source);
  if (!existsSync(path)) throw usageError(`--source ${options.source}: no such file or directory.`);
  if (statSync(path).isFile()) {
    // A local copy of one of the recipe's pinned archives is that source, checksum and all.
    const sha256 = await sha256File(path);
    const pinned = recipe.sources.find((s) => s.sha256 === sha256);
    if (pinned) return { kind: 'recipe', source: pinned, file: path };
  }
  const version = options.version ?? recipeSelect();
  if (!/^[A-Za-z0-9._+~^]+$/.test(version)) throw usageError(`--version ${version} is not a valid RPM version.`);
  if (statSync(path).isDirectory()) return { kind: 'directory', path, version };
  return { kind: 'tarball', path, topdir: await tarballTopdir(path), version };
}

export async function resolveKmodInput(recipeName: string, options: KmodOptions, env: Env): Promise<KmodPlanInput> {
  const { recipe } = loadKmodRecipe(recipeName, options.recipes ?? []);
  const { arch, mode } = chooseArchAndMode(options, env.host);
  let crossPrefix: string | undefined;
  if (mode === 'cross') {
    const cross = chooseCross(arch, env.host);
    if (!env.host.which(`${cross.prefix}gcc`)) throw missing(installHint(`${cross.prefix}gcc`, ARCHES));
    crossPrefix = cross.prefix;
  }
  const cacheDir = options.cacheDir ? resolve(options.cacheDir) : defaultCacheDir();
  // kbuild cannot build in paths with whitespace, and the cached Debian tree's Makefile includes the cache path.
  if (/\s/.test(cacheDir)) throw usageError(`The cache directory "${cacheDir}" contains whitespace, which kernel builds cannot handle: set ARMKIT_CACHE_DIR or --cache-dir to a path without it.`);
  const kernel = await resolveKernel(options.kernel, arch, mode === 'native', { cacheDir, host: env.host, runner: env.runner, warn: env.warn });
  const source = await chooseSource(
    options,
    recipe,
    () => selectSource(recipe, kernel.version).version,
    () => ({ kind: 'recipe', source: selectSource(recipe, kernel.version, options.version) }),
  );
  if (/\s/.test(kernel.dir)) throw usageError(`The kernel header directory "${kernel.dir}" contains whitespace, which kbuild cannot handle: copy or link it to a path without.`);
  return { recipe, arch, mode, crossPrefix, kernel, source, cacheDir, jobs: env.host.cpus, now: env.now, armkitVersion: env.armkitVersion };
}
