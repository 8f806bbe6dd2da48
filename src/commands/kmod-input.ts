/**
 * Everything `build` and `install` learn from the outside world before planning: the recipe, the architecture and
 * mode, the cross toolchain on this host, the kernel headers and the source. Planning itself is pure.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARCHES, type Arch, findArch } from '../arch.js';
import { ArchiveProblem, readTar, refuseSpecial, SPECIAL_ENTRY } from '../archive.js';
import { buildKey, hashTree } from '../artifacts/build-cache.js';
import { sha256File } from '../artifacts/hash.js';
import type { EngineName } from '../engines/engine.js';
import { missing, usageError } from '../errors.js';
import { assertDirCreatable, type DirOptions, ensureDir, writeError } from '../fsutil.js';
import type { Host } from '../host.js';
import { resolveChrootKernel, resolveKernel } from '../kernel/resolve.js';
import { BUILTIN_RECIPES, defaultCacheDir, PACKAGE_ROOT, TEMPLATES } from '../paths.js';
import { assertPlainPath, isPlainName } from '../plain.js';
import type { KmodPlanInput, Mode, SourceInput } from '../plan/kmod.js';
import { cachedSource, REPRODUCIBLE_DEFINES, sourceVersion } from '../plan/kmod.js';
import { chooseCross, installHint } from '../prereqs.js';
import type { Runner } from '../proc/runner.js';
import { loadKmodRecipe } from '../recipes/load.js';
import type { KmodRecipe, RecipeSource } from '../recipes/schema.js';
import { selectSource } from '../recipes/select.js';
import type { Env } from './env.js';

/** Commands take Env from here too; dkms-input.ts, which this module calls, takes it from env.js (no import circle). */
export type { Env };

export interface KmodOptions {
  arch?: string;
  mode?: string;
  kernel?: string;
  source?: string;
  version?: string;
  recipes?: string[];
  cacheDir?: string;
  /** Read the cache, never write it or download (the dry-run contract). */
  dryRun?: boolean;
  /** The output root of a build: checked before anything runs (written only when the build succeeds). */
  out?: string;
  /** Where the RPMs are built: local, or a chroot engine (mock, copr) with its chroot. */
  engine?: string;
  chroot?: string;
}

/** How the cache and out/ are named when armkit cannot write there. */
const CACHE_DIR: DirOptions = { what: 'the cache directory', advice: 'set --cache-dir or ARMKIT_CACHE_DIR to a directory on a disk that armkit can write to' };
const OUT_DIR: DirOptions = { what: 'the output directory (--out)', advice: 'pass another --out' };

function findArchOrHost(name: string | undefined, host: Host): Arch | undefined {
  return name ? findArch(name) : host.arch;
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

/** What armkit needs to know of a local tarball before planning. */
interface TarballFacts {
  /** Its single top directory (rpm's %setup -n needs it). */
  topdir: string;
  makefile?: string;
  /** Files directly under the top directory. */
  files: string[];
  /** The newest entry's modification time, in seconds. */
  newest: number;
}

/** What a --source file that is no readable tar archive is, named for what it is. */
function notAnArchive(path: string, problem: ArchiveProblem): string {
  const size = statSync(path).size;
  if (size === 0) return 'an empty file';
  const head = readFileSync(path).subarray(0, 512).toString('latin1').trimStart().toLowerCase();
  if (head.startsWith('<!doctype html') || head.startsWith('<html')) return 'an HTML page (a download that returned an error page?), not a tar archive';
  return `a file that ${problem.message}`;
}

async function inspectTarball(path: string): Promise<TarballFacts> {
  const tops = new Set<string>();
  const files: string[] = [];
  const special: string[] = [];
  let makefile: string | undefined;
  let newest = 0;
  try {
    // Bounded (ARMKIT_UNPACK_MAX): rpmbuild unpacks this archive in full, so a bomb is refused here.
    await readTar(path, (entry) => {
      const parts = entry.path.replace(/^\.\//, '').split('/');
      tops.add(parts[0]!);
      if (SPECIAL_ENTRY.test(entry.type)) special.push(`${entry.path} (${entry.type})`);
      if (parts.length === 2 && parts[1]) files.push(parts[1]);
      if (entry.mtime) newest = Math.max(newest, Math.floor(entry.mtime.getTime() / 1000));
      if (parts.length === 2 && parts[1] === 'Makefile' && entry.type === 'File' && entry.size < 1_000_000) {
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => (makefile = Buffer.concat(chunks).toString('utf8')));
      }
    });
    refuseSpecial(special);
  } catch (error) {
    if (!(error instanceof ArchiveProblem)) throw error;
    const what = error.problem === 'not-tar' || error.problem === 'damaged' ? `is ${notAnArchive(path, error)}` : error.message;
    throw usageError(`--source ${path} ${what}: pass a tar archive of the module's source tree (.tar, .tar.gz), or the unpacked directory.`);
  }
  tops.delete('');
  tops.delete('pax_global_header');
  if (tops.size !== 1) throw usageError(`--source ${path}: expected one top directory in the archive, found ${[...tops].join(', ') || 'none'}.`);
  const topdir = [...tops][0]!;
  if (!isPlainName(topdir)) {
    throw usageError(
      `--source ${path}: the archive's top directory ${JSON.stringify(topdir)} has characters rpm or the shell would interpret; unpack it and pass the directory instead.`,
    );
  }
  return { topdir, files, newest, ...(makefile !== undefined ? { makefile } : {}) };
}

/** The newest modification time of a tree's files, in seconds (.git left out). */
function newestIn(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    if (name === '.git') continue;
    const st = lstatSync(join(dir, name));
    newest = Math.max(newest, Math.floor(st.mtimeMs / 1000), st.isDirectory() ? newestIn(join(dir, name)) : 0);
  }
  return newest;
}

/** What a chosen source says of itself: its identity for the build key, its date, the license files it has. */
export interface SourceFacts {
  /** sha256 of the archive, or of the directory's files. */
  identity: string;
  sourceDateEpoch: number;
  licenseFiles: string[];
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

export async function chooseSource(options: KmodOptions, recipe: KmodRecipe, source: () => SourceInput): Promise<{ source: SourceInput; facts: SourceFacts }> {
  const pinnedFacts = (s: RecipeSource): SourceFacts => ({
    identity: s.sha256,
    sourceDateEpoch: Math.floor(Date.parse(`${s.date}T00:00:00Z`) / 1000),
    licenseFiles: recipe.licenseFiles,
  });
  if (!options.source) {
    const chosen = source() as Extract<SourceInput, { kind: 'recipe' }>;
    // A file:// source (an imported DKMS tree, packed beside the recipe) is verified where it is, not downloaded.
    if (chosen.source.url.startsWith('file:')) return { source: { ...chosen, file: fileURLToPath(chosen.source.url) }, facts: pinnedFacts(chosen.source) };
    return { source: chosen, facts: pinnedFacts(chosen.source) };
  }
  const path = resolve(options.source);
  if (!existsSync(path)) throw usageError(`--source ${options.source}: no such file or directory.`);
  const isFile = statSync(path).isFile();
  if (isFile) {
    // A local copy of one of the recipe's pinned archives is that source, checksum and all.
    const sha256 = await sha256File(path);
    const pinned = recipe.sources.find((s) => s.sha256 === sha256);
    if (pinned) return { source: { kind: 'recipe', source: pinned, file: path }, facts: pinnedFacts(pinned) };
  } else if (!statSync(path).isDirectory()) {
    throw usageError(`--source ${options.source} is neither a file nor a directory.`);
  }
  const tarball = isFile ? await inspectTarball(path) : undefined;
  if (!isFile && !existsSync(join(path, 'Makefile'))) {
    throw usageError(
      `--source ${options.source} is a directory without a Makefile: armkit builds a module with "make ${recipe.make.target}" in its source tree.`,
    );
  }
  const makefile = tarball ? tarball.makefile : readFileSync(join(path, 'Makefile'), 'utf8');
  const said = versionOfSource(makefile, tarball ? tarball.topdir : basename(path));
  const version = options.version ?? said;
  if (!version) {
    throw usageError(`--source ${options.source} does not say its version (no VERSION in its Makefile, no version in its name): give it with --version.`);
  }
  if (!/^[A-Za-z0-9._+~^]+$/.test(version)) throw usageError(`--version ${version} is not a valid RPM version.`);
  const present = tarball ? tarball.files : readdirSync(path);
  const facts: SourceFacts = {
    identity: isFile ? await sha256File(path) : hashTree(path),
    // SOURCE_DATE_EPOCH 0 does not clamp in rpm 4.17-4.19: 1 at least.
    sourceDateEpoch: Math.max(1, tarball ? tarball.newest : newestIn(path)),
    licenseFiles: recipe.licenseFiles.filter((f) => present.includes(f.split('/')[0]!)),
  };
  if (!isFile) return { source: { kind: 'directory', path, version }, facts };
  return { source: { kind: 'tarball', path, topdir: tarball!.topdir, version }, facts };
}

export interface KmodInput extends KmodPlanInput {
  /** The recipe file read, and the folders searched for it. */
  recipeFile: string;
  recipeDirs: string[];
  /** The chosen source's identity, for the build key. */
  sourceIdentity: string;
  /** What the user should know about the inputs. */
  warnings: string[];
}

export async function resolveKmodInput(recipeName: string, options: KmodOptions, env: Env): Promise<KmodInput> {
  const { recipe, file: recipeFile } = loadKmodRecipe(recipeName, options.recipes ?? []);
  // A build in a chroot (mock, Copr) compiles there, for the target, with the chroot's kernel-devel: nothing of
  // this host's toolchain or kernel headers is used.
  const chroot =
    options.engine && options.engine !== 'local' ? (options.chroot ?? findArchOrHost(options.arch, env.host)?.fedoraChroot ?? undefined) : undefined;
  const { arch, mode } = chroot
    ? { arch: chooseArchAndMode({ arch: options.arch }, env.host).arch, mode: 'native' as Mode }
    : chooseArchAndMode(options, env.host);
  let crossPrefix: string | undefined;
  if (mode === 'cross') {
    const cross = chooseCross(arch, env.host);
    if (!env.host.which(`${cross.prefix}gcc`)) throw missing(installHint(`${cross.prefix}gcc`, ARCHES));
    crossPrefix = cross.prefix;
  }
  const cacheDir = options.cacheDir ? resolve(options.cacheDir) : defaultCacheDir();
  // The cache holds the rpmbuild tree and the Debian header trees: its path reaches --define, make and kbuild.
  assertPlainPath(cacheDir, 'The cache directory', 'set ARMKIT_CACHE_DIR or --cache-dir to a path of letters, digits and ._/+-');
  // A cache or out/ armkit cannot write in is refused now, not after the build (a dry run only checks, writing nothing;
  // out/ itself is written only when the build succeeds).
  if (options.dryRun) assertDirCreatable(cacheDir, CACHE_DIR);
  else ensureDir(cacheDir, CACHE_DIR);
  if (options.out !== undefined) assertDirCreatable(resolve(options.out), OUT_DIR);
  const resolveTheKernel = async () =>
    chroot
      ? resolveChrootKernel(options.kernel, chroot)
      : await resolveKernel(options.kernel, arch, mode === 'native', {
          cacheDir,
          host: env.host,
          runner: env.runner,
          warn: env.warn,
          dryRun: options.dryRun,
        });
  let kernel = await resolveTheKernel();
  const { source, facts } = await chooseSource(options, recipe, () => ({ kind: 'recipe', source: selectSource(recipe, kernel.version, options.version) }));
  if (!chroot) assertPlainPath(kernel.dir, 'The kernel header directory', 'copy or link it to a path of letters, digits and ._/+-');
  const warnings: string[] = [];
  // A DKMS recipe: its dkms.conf, read for this kernel (src/commands/dkms-input.ts).
  let dkms: KmodPlanInput['dkms'];
  if (recipe.dkms) {
    const { dkmsForKernel } = await import('./dkms-input.js');
    const read = await dkmsForKernel(recipe, source.kind === 'recipe' ? source.source : undefined, arch, kernel, env, {
      cacheDir,
      dryRun: options.dryRun,
      recipeFile,
      reresolve: resolveTheKernel,
    });
    ({ dkms, kernel } = read);
    warnings.push(...read.warnings);
  }
  if (recipe.licenseFiles.length > 0 && facts.licenseFiles.length === 0) {
    warnings.push(`The source has none of the license files the recipe names (${recipe.licenseFiles.join(', ')}): its packages carry no license file.`);
  }
  return {
    recipe,
    recipeFile,
    recipeDirs: [...(options.recipes ?? []).map((d) => resolve(d)), BUILTIN_RECIPES],
    arch,
    mode,
    crossPrefix,
    kernel,
    source,
    cacheDir,
    jobs: env.host.cpus,
    armkitVersion: env.armkitVersion,
    sourceDateEpoch: facts.sourceDateEpoch,
    licenseFiles: facts.licenseFiles,
    sourceIdentity: facts.identity,
    warnings,
    ...(dkms ? { dkms } : {}),
  };
}

/** sha256 of every file of a template folder: a changed template is a changed build. */
function templatesHash(dir: string): string {
  return hashTree(dir);
}

/**
 * The first line a program prints for --version: the toolchain's identity in a build key. Remembered in the
 * cache per binary (path, size, modification time), so an unchanged build runs no program at all.
 */
async function versionOf(runner: Runner, program: string, path: string | undefined, cacheDir: string, remember: boolean): Promise<string> {
  const file = join(cacheDir, 'toolchains.json');
  let known: Record<string, string> = {};
  try {
    known = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch {
    known = {};
  }
  let id: string | undefined;
  if (path) {
    const real = realpathSync(path);
    const st = statSync(real);
    id = `${real}:${st.size}:${st.mtimeMs}`;
    if (known[id]) return known[id]!;
  }
  // Not installed: the plan's preflight names it with its install command.
  if (!path) return `${program} (absent)`;
  const r = await runner.capture([program, '--version']);
  const version = r.stdout.split('\n')[0]?.trim() || `${program} (exit ${r.exitCode})`;
  if (id && r.exitCode === 0 && remember) {
    ensureDir(cacheDir, CACHE_DIR);
    try {
      writeFileSync(file, `${JSON.stringify({ ...known, [id]: version }, null, 2)}\n`);
    } catch (error) {
      throw writeError(error, file, CACHE_DIR.advice);
    }
  }
  return version;
}

/**
 * Everything a kmod build's packages depend on, and their key: the recipe, the source's checksum, the kernel
 * tree's identity, the architecture, mode and engine, the toolchain's and rpmbuild's versions, the templates,
 * armkit's version and the reproducibility settings.
 */
export async function kmodBuildInputs(
  input: KmodInput,
  engine: EngineName,
  nodeps: boolean,
  env: Pick<Env, 'runner' | 'host'>,
  dryRun = false,
): Promise<{ key: string } & Record<string, unknown>> {
  const gcc = `${input.crossPrefix ?? ''}gcc`;
  const facts = {
    what: 'kmod-build',
    recipe: input.recipe,
    source: { kind: input.source.kind, identity: input.sourceIdentity, version: sourceVersion(input.source), licenseFiles: input.licenseFiles },
    kernel: input.kernel.identity,
    arch: input.arch.rpm,
    mode: input.mode,
    engine,
    crossCompile: input.crossPrefix ?? null,
    // A dry run writes nothing, not even the remembered versions.
    toolchain: await versionOf(env.runner, gcc, env.host.which(gcc), input.cacheDir, !dryRun),
    rpmbuild: await versionOf(env.runner, 'rpmbuild', env.host.which('rpmbuild'), input.cacheDir, !dryRun),
    templates: templatesHash(join(TEMPLATES, 'kmod')),
    armkit: input.armkitVersion,
    sourceDateEpoch: input.sourceDateEpoch,
    defines: REPRODUCIBLE_DEFINES,
    nodeps,
  };
  return {
    key: buildKey(facts),
    kernel: facts.kernel,
    toolchain: facts.toolchain,
    rpmbuild: facts.rpmbuild,
    source: facts.source,
    engine,
    templates: facts.templates,
  };
}

/** Every path of a tree, directories included (their modification time changes when entries come and go). */
function treePaths(dir: string): string[] {
  const out = [dir];
  for (const name of readdirSync(dir)) {
    if (name === '.git') continue;
    const path = join(dir, name);
    out.push(...(lstatSync(path).isDirectory() ? treePaths(path) : [path]));
  }
  return out;
}

/**
 * The files whose state the build's result depends on (src/stamp.ts): while none changes, the same command has
 * nothing to do. A superset of what the build key hashes, by path: recipe and recipe folders, templates, the source,
 * the header tree's identity files and the Debian index it was resolved with, the toolchain, armkit itself.
 */
export function stampPaths(input: KmodInput, host: Host): string[] {
  const source =
    input.source.kind === 'recipe'
      ? [input.source.file ?? cachedSource(input.cacheDir, input.source.source)]
      : input.source.kind === 'tarball'
        ? [input.source.path]
        : treePaths(input.source.path);
  const kernel = ['Makefile', 'Module.symvers', '.config', 'include/generated/utsrelease.h'].map((f) => join(input.kernel.dir, f));
  const debian =
    input.kernel.source === 'debian'
      ? [join(input.cacheDir, 'apt', input.arch.debian.arch, 'updated'), join(input.kernel.dir, '..', '..', '..', '..', 'armkit-headers.json')]
      : [];
  const tools = [`${input.crossPrefix ?? ''}gcc`, 'rpmbuild', 'rpm']
    .map((p) => host.which(p))
    .filter((p): p is string => Boolean(p))
    .map((p) => realpathSync(p));
  return [
    input.recipeFile,
    ...input.recipeDirs,
    ...treePaths(join(TEMPLATES, 'kmod')),
    ...source,
    ...kernel,
    ...debian,
    ...tools,
    join(PACKAGE_ROOT, 'dist', 'armkit.cjs'),
    join(PACKAGE_ROOT, 'package.json'),
  ];
}
