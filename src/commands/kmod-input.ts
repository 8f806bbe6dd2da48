/**
 * Everything `build` and `install` learn from the outside world before planning: the recipe, the architecture and
 * mode, the cross toolchain on this host, the kernel headers and the source. Planning itself is pure.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
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
import { assertPlainPath, isPlainName } from '../plain.js';

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

/** A tarball's single top directory (rpm's %setup -n needs it) and its Makefile's text, if it has one. */
async function inspectTarball(path: string): Promise<{ topdir: string; makefile?: string }> {
  const tar = await import('tar');
  const tops = new Set<string>();
  let makefile: string | undefined;
  try {
    await tar.t({
      file: path,
      onReadEntry: (entry) => {
        const parts = entry.path.replace(/^\.\//, '').split('/');
        tops.add(parts[0]!);
        if (parts.length === 2 && parts[1] === 'Makefile' && entry.type === 'File' && entry.size < 1_000_000) {
          const chunks: Buffer[] = [];
          entry.on('data', (c: Buffer) => chunks.push(c));
          entry.on('end', () => (makefile = Buffer.concat(chunks).toString('utf8')));
        }
      },
    });
  } catch (error) {
    throw usageError(`--source ${path} is not a tar archive armkit can read (${(error as Error).message}).`);
  }
  tops.delete('');
  tops.delete('pax_global_header');
  if (tops.size !== 1) throw usageError(`--source ${path}: expected one top directory in the archive, found ${[...tops].join(', ') || 'none'}.`);
  const topdir = [...tops][0]!;
  if (!isPlainName(topdir)) {
    throw usageError(`--source ${path}: the archive's top directory ${JSON.stringify(topdir)} has characters rpm or the shell would interpret; unpack it and pass the directory instead.`);
  }
  return { topdir, ...(makefile !== undefined ? { makefile } : {}) };
}

/**
 * The version an unpinned source says it is: its Makefile's VERSION (cryptodev-linux has one), else the version
 * at the end of its directory name (name-1.2). Undefined when it says nothing.
 */
export function versionOfSource(makefile: string | undefined, dirName: string): string | undefined {
  const fromMakefile = makefile && /^VERSION\s*[:?]?=[ \t]*([A-Za-z0-9._+~^]+)[ \t]*$/m.exec(makefile)?.[1];
  if (fromMakefile) return fromMakefile;
  return /-v?(\d+(?:\.\d+)+[A-Za-z0-9._+~^]*)$/.exec(dirName)?.[1];
}

async function chooseSource(options: KmodOptions, recipe: KmodRecipe, source: () => SourceInput): Promise<SourceInput> {
  if (!options.source) return source();
  const path = resolve(options.source);
  if (!existsSync(path)) throw usageError(`--source ${options.source}: no such file or directory.`);
  const isFile = statSync(path).isFile();
  if (isFile) {
    // A local copy of one of the recipe's pinned archives is that source, checksum and all.
    const sha256 = await sha256File(path);
    const pinned = recipe.sources.find((s) => s.sha256 === sha256);
    if (pinned) return { kind: 'recipe', source: pinned, file: path };
  } else if (!statSync(path).isDirectory()) {
    throw usageError(`--source ${options.source} is neither a file nor a directory.`);
  }
  const tarball = isFile ? await inspectTarball(path) : undefined;
  if (!isFile && !existsSync(join(path, 'Makefile'))) {
    throw usageError(`--source ${options.source} is a directory without a Makefile: armkit builds a module with "make ${recipe.make.target}" in its source tree.`);
  }
  const makefile = tarball ? tarball.makefile : readFileSync(join(path, 'Makefile'), 'utf8');
  const said = versionOfSource(makefile, tarball ? tarball.topdir : basename(path));
  const version = options.version ?? said;
  if (!version) {
    throw usageError(`--source ${options.source} does not say its version (no VERSION in its Makefile, no version in its name): give it with --version.`);
  }
  if (!/^[A-Za-z0-9._+~^]+$/.test(version)) throw usageError(`--version ${version} is not a valid RPM version.`);
  if (!isFile) return { kind: 'directory', path, version };
  return { kind: 'tarball', path, topdir: tarball!.topdir, version };
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
  // The cache holds the rpmbuild tree and the Debian header trees: its path reaches --define, make and kbuild.
  assertPlainPath(cacheDir, 'The cache directory', 'set ARMKIT_CACHE_DIR or --cache-dir to a path of letters, digits and ._/+-');
  const kernel = await resolveKernel(options.kernel, arch, mode === 'native', { cacheDir, host: env.host, runner: env.runner, warn: env.warn });
  const source = await chooseSource(options, recipe, () => ({ kind: 'recipe', source: selectSource(recipe, kernel.version, options.version) }));
  assertPlainPath(kernel.dir, 'The kernel header directory', 'copy or link it to a path of letters, digits and ._/+-');
  return { recipe, arch, mode, crossPrefix, kernel, source, cacheDir, jobs: env.host.cpus, now: env.now, armkitVersion: env.armkitVersion };
}
