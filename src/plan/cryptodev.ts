/**
 * Plans for the kmod recipes (cryptodev): `build` makes kmod + devel RPMs and the source RPM with rpmbuild;
 * `install` builds with the upstream Makefile and installs onto this system (or a --destdir).
 * Pure: everything the plan depends on is in its arguments.
 */
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import type { Arch } from '../arch.js';
import type { ResolvedKernel } from '../kernel/resolve.js';
import type { KmodRecipe, RecipeSource } from '../recipes/schema.js';
import { RPM_BUILD_PROGRAMS, toolchainPrograms } from '../prereqs.js';
import { isPlainName } from '../plain.js';
import { MultilineText, renderTemplate } from '../templates.js';
import type { Plan, Step } from './step.js';

export type SourceInput =
  /** A recipe source: downloaded into the cache, or `file` given by the user with the recipe's checksum. */
  | { kind: 'recipe'; source: RecipeSource; file?: string }
  | { kind: 'tarball'; path: string; topdir: string; version: string }
  | { kind: 'directory'; path: string; version: string };

export type Mode = 'native' | 'cross';

export interface KmodPlanInput {
  recipe: KmodRecipe;
  arch: Arch;
  mode: Mode;
  /** CROSS_COMPILE prefix chosen for this host (cross mode only). */
  crossPrefix?: string;
  kernel: ResolvedKernel;
  source: SourceInput;
  cacheDir: string;
  /** `make -j` for builds outside rpmbuild. */
  jobs: number;
  now: Date;
  armkitVersion: string;
}

export interface BuildPlanInput extends KmodPlanInput {
  /** Output root (out/); results go to <outDir>/<recipe>/<version>/<arch>/. */
  outDir: string;
  /** Skip BuildRequires checks: the host's rpm database does not list its packages (Debian). */
  nodeps: boolean;
}

export interface InstallPlanInput extends KmodPlanInput {
  /** Stage under this directory instead of installing into / (no depmod, no modprobe). */
  destdir?: string;
  /** Release of the running kernel: modprobe only makes sense for it. */
  runningRelease: string;
}

export function sourceVersion(source: SourceInput): string {
  return source.kind === 'recipe' ? source.source.version : source.version;
}

/** A work directory per distinct build, so two builds never share one and a rerun starts clean. */
export function workDirFor(input: KmodPlanInput, purpose: string, extra: string): string {
  const key = JSON.stringify([purpose, input.recipe.name, input.arch.rpm, input.mode, input.kernel.dir, input.source, extra]);
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 10);
  return join(input.cacheDir, 'work', `${input.recipe.name}-${purpose}-${input.arch.rpm}-${hash}`);
}

export function cachedSource(cacheDir: string, source: RecipeSource): string {
  return join(cacheDir, 'sources', source.sha256.slice(0, 12), source.file);
}

/** Steps that put the source archive at `dest` (a file name in SOURCES) and say what it is. */
function sourceSteps(input: KmodPlanInput, sourcesDir: string): { steps: Step[]; file: string; topdir: string } {
  const { source, recipe } = input;
  if (source.kind === 'recipe') {
    const archive = source.file ?? cachedSource(input.cacheDir, source.source);
    return {
      steps: [
        source.file
          ? { kind: 'verify', title: `Verify ${source.file} is ${source.source.file}`, path: source.file, sha256: source.source.sha256 }
          : { kind: 'fetch', title: `Fetch ${source.source.file}`, url: source.source.url, dest: archive, sha256: source.source.sha256 },
        { kind: 'copy', title: `Stage ${source.source.file}`, from: archive, to: join(sourcesDir, source.source.file) },
      ],
      file: source.source.file,
      topdir: source.source.topdir,
    };
  }
  if (source.kind === 'tarball') {
    const file = stagedName(basename(source.path), recipe.package, source.version);
    return { steps: [{ kind: 'copy', title: `Stage ${file}`, from: source.path, to: join(sourcesDir, file) }], file, topdir: source.topdir };
  }
  const topdir = `${recipe.package}-${source.version}`;
  const file = `${topdir}.tar.gz`;
  return {
    steps: [{ kind: 'pack', title: `Pack ${source.path} as ${file}`, dir: source.path, archive: join(sourcesDir, file), prefix: topdir }],
    file,
    topdir,
  };
}

/**
 * The name a local tarball gets in SOURCES and as Source0: its own when it is plain, else package-version with its
 * archive suffix (rpm and the spec's shell would read `%`, `$` or quotes in a file name).
 */
export function stagedName(file: string, pkg: string, version: string): string {
  if (isPlainName(file)) return file;
  const suffix = /\.(tar\.(?:gz|xz|bz2|zst|lz)|tgz|tbz2|txz|tar)$/.exec(file)?.[0] ?? '.tar.gz';
  return `${pkg}-${version}${suffix}`;
}

/** A build from a source no checksum vouches for is marked in its Release, so it never passes for the pinned one. */
export function releaseOf(input: KmodPlanInput): string {
  return input.source.kind === 'recipe' ? String(input.recipe.release) : `${input.recipe.release}.local`;
}

function changelogDate(now: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  return `${days[now.getUTCDay()]} ${months[now.getUTCMonth()]} ${String(now.getUTCDate()).padStart(2, '0')} ${now.getUTCFullYear()}`;
}

export function renderKmodSpec(input: KmodPlanInput, source0: string, topdir: string): string {
  const { recipe } = input;
  return renderTemplate('cryptodev/kmod.spec.ejs', {
    armkitVersion: input.armkitVersion,
    package: recipe.package,
    version: sourceVersion(input.source),
    release: releaseOf(input),
    summary: recipe.summary,
    description: new MultilineText(recipe.description.trim()),
    license: recipe.license,
    homepage: recipe.homepage,
    source0,
    topdir,
    kernelRelease: input.kernel.release,
    module: recipe.module.name,
    moduleBuilt: recipe.module.built,
    installDir: recipe.module.installDir,
    autoload: recipe.module.autoload,
    makeVars: recipe.make.vars,
    makeTarget: recipe.make.target,
    headers: recipe.headers,
    licenseFiles: recipe.licenseFiles,
    changelogDate: changelogDate(input.now),
  });
}

export function renderModulesLoad(recipe: KmodRecipe): string {
  return renderTemplate('cryptodev/modules-load.conf.ejs', { module: recipe.module.name, package: recipe.package });
}

function kernelPrepareTools(kernel: ResolvedKernel): string[] {
  return [...(kernel.prepare.length ? ['apt-get', 'dpkg-deb'] : []), ...(kernel.tools ?? [])];
}

function noChecksumWarning(path: string, release?: string): string {
  return `Building from ${path}: no checksum applies to a local source that is not one of the recipe's pinned archives${release ? `; its packages are marked Release ${release}` : ''}.`;
}

function modeLabel(input: KmodPlanInput): string {
  return input.mode === 'cross' ? `cross, ${input.crossPrefix}` : 'native';
}

export function planKmodBuild(input: BuildPlanInput): Plan {
  const { recipe, arch, kernel } = input;
  const version = sourceVersion(input.source);
  const work = workDirFor(input, 'build', input.outDir);
  const top = join(work, 'rpmbuild');
  const logsDir = join(work, 'logs');
  const specFile = join(top, 'SPECS', `${recipe.package}.spec`);
  const src = sourceSteps(input, join(top, 'SOURCES'));
  const kmodName = `kmod-${recipe.module.name}-${kernel.release}`;
  const dest = join(input.outDir, recipe.name, version, arch.rpm);

  const rpmbuild = ['rpmbuild', '-ba', '--target', arch.rpm, '--define', `_topdir ${top}`, '--define', `kernel_dir ${kernel.dir}`];
  if (input.mode === 'cross') {
    rpmbuild.push(
      '--define', `kernel_arch ${arch.kernelArch}`,
      '--define', `cross_compile ${input.crossPrefix}`,
      // rpmbuild --target changes macros, not tools: the host strip and objdump fail on foreign objects.
      '--define', `__strip ${input.crossPrefix}strip`,
      '--define', `__objdump ${input.crossPrefix}objdump`,
    );
  }
  if (input.nodeps) rpmbuild.push('--nodeps');
  rpmbuild.push(specFile);

  const warnings: string[] = [];
  if (input.source.kind !== 'recipe') warnings.push(noChecksumWarning(input.source.path, releaseOf(input)));

  const steps: Step[] = [
    { kind: 'remove', title: 'Clear the work directory', path: work },
    { kind: 'mkdir', title: 'Create the log directory', path: logsDir },
    ...kernel.prepare,
    ...['SOURCES', 'SPECS'].map((d): Step => ({ kind: 'mkdir', title: `Create rpmbuild/${d}`, path: join(top, d) })),
    ...src.steps,
    ...(recipe.module.autoload
      ? [{ kind: 'write', title: `Render ${recipe.module.name}.conf (modules-load.d)`, path: join(top, 'SOURCES', `${recipe.module.name}.conf`), content: renderModulesLoad(recipe) } as Step]
      : []),
    { kind: 'write', title: `Render ${recipe.package}.spec`, path: specFile, content: renderKmodSpec(input, src.file, src.topdir) },
    { kind: 'exec', title: `rpmbuild ${kmodName} for ${arch.rpm} (${modeLabel(input)})`, argv: rpmbuild, log: 'rpmbuild.log' },
    {
      kind: 'check-module',
      title: `Check ${recipe.module.name}.ko in ${kmodName} is ${arch.elf.name} for ${kernel.release}`,
      path: join(top, 'RPMS', arch.rpm, `${kmodName}-${version}-*.${arch.rpm}.rpm`),
      moduleInRpm: `lib/modules/${kernel.release}/extra/${recipe.module.installDir}/${recipe.module.name}.ko`,
      scratch: join(work, 'payload'),
      arch,
      release: kernel.release,
    },
    {
      kind: 'publish',
      title: `Publish to ${dest}`,
      artifacts: [join(top, 'RPMS', arch.rpm, '*.rpm'), join(top, 'RPMS', 'noarch', '*.rpm'), join(top, 'SRPMS', '*.src.rpm')],
      logsDir,
      dest,
      manifest: {
        recipe: recipe.name,
        package: recipe.package,
        version,
        arch: arch.rpm,
        mode: input.mode,
        ...(input.mode === 'cross' ? { crossCompile: input.crossPrefix } : {}),
        kernel: { release: kernel.release, version: kernel.version, spec: kernel.spec, dir: kernel.dir, ...(kernel.packages?.length ? { debianPackages: kernel.packages } : {}) },
        source:
          input.source.kind === 'recipe'
            ? { kind: 'recipe', url: input.source.source.url, file: input.source.source.file, sha256: input.source.source.sha256, verified: true }
            : { kind: input.source.kind, path: input.source.path, file: src.file, verified: false },
        sourceArchive: join(top, 'SOURCES', src.file),
        armkit: input.armkitVersion,
      },
    },
  ];
  return {
    summary: `${recipe.name} ${version} for ${arch.rpm} (${modeLabel(input)}) against Linux ${kernel.release}`,
    logsDir,
    warnings,
    requires: [...RPM_BUILD_PROGRAMS, ...toolchainPrograms(input.crossPrefix), ...kernelPrepareTools(kernel)],
    steps,
  };
}

export function planKmodInstall(input: InstallPlanInput): Plan {
  const { recipe, arch, kernel } = input;
  const version = sourceVersion(input.source);
  const work = workDirFor(input, 'install', input.destdir ?? '/');
  const srcDir = join(work, 'src');
  const logsDir = join(work, 'logs');
  const root = input.destdir ?? '/';
  const moduleDest = join(root, 'lib/modules', kernel.release, 'extra', recipe.module.installDir, `${recipe.module.name}.ko`);

  const steps: Step[] = [
    { kind: 'remove', title: 'Clear the work directory', path: work },
    { kind: 'mkdir', title: 'Create the log directory', path: logsDir },
    ...kernel.prepare,
  ];
  if (input.source.kind === 'directory') {
    steps.push({ kind: 'copy', title: `Copy ${input.source.path}`, from: input.source.path, to: srcDir });
  } else {
    const archive = input.source.kind === 'recipe' ? (input.source.file ?? cachedSource(input.cacheDir, input.source.source)) : input.source.path;
    if (input.source.kind === 'recipe') {
      const s = input.source.source;
      steps.push(
        input.source.file
          ? { kind: 'verify', title: `Verify ${input.source.file} is ${s.file}`, path: input.source.file, sha256: s.sha256 }
          : { kind: 'fetch', title: `Fetch ${s.file}`, url: s.url, dest: archive, sha256: s.sha256 },
      );
    }
    steps.push({ kind: 'unpack', title: `Unpack ${basename(archive)}`, archive, dest: srcDir });
  }
  const make = ['make', `-j${input.jobs}`, `${recipe.make.vars.kernelDir}=${kernel.dir}`];
  if (input.mode === 'cross') make.push(`${recipe.make.vars.arch}=${arch.kernelArch}`, `${recipe.make.vars.crossCompile}=${input.crossPrefix}`);
  make.push(recipe.make.target);
  steps.push(
    { kind: 'exec', title: `make ${recipe.make.target} against Linux ${kernel.release}`, argv: make, cwd: srcDir, log: 'make.log' },
    { kind: 'check-module', title: `Check ${recipe.module.name}.ko is ${arch.elf.name} for ${kernel.release}`, path: join(srcDir, recipe.module.built), arch, release: kernel.release },
    { kind: 'exec', title: `Install ${moduleDest}`, argv: ['install', '-D', '-m', '0644', join(srcDir, recipe.module.built), moduleDest], log: 'install.log' },
  );
  for (const h of recipe.headers) {
    const to = join(root, 'usr/include', h.to);
    steps.push({ kind: 'exec', title: `Install ${to}`, argv: ['install', '-D', '-m', '0644', join(srcDir, h.from), to], log: 'install.log' });
  }
  if (recipe.module.autoload) {
    steps.push({ kind: 'write', title: `Write modules-load.d/${recipe.module.name}.conf`, path: join(root, 'etc/modules-load.d', `${recipe.module.name}.conf`), content: renderModulesLoad(recipe) });
  }
  const warnings: string[] = [];
  if (input.source.kind !== 'recipe') warnings.push(noChecksumWarning(input.source.path));
  if (!input.destdir) {
    steps.push({ kind: 'exec', title: `depmod -a ${kernel.release}`, argv: ['depmod', '-a', kernel.release], log: 'depmod.log' });
    if (kernel.release === input.runningRelease) {
      steps.push({ kind: 'exec', title: `modprobe ${recipe.module.name}`, argv: ['modprobe', recipe.module.name], log: 'modprobe.log' });
    } else {
      warnings.push(`Linux ${kernel.release} is not the running kernel (${input.runningRelease}): the module will load when that kernel boots.`);
    }
  } else {
    warnings.push(`Staged under ${input.destdir}: run "depmod -a ${kernel.release}" on the target after copying (nothing was loaded).`);
  }
  return {
    summary: `install ${recipe.name} ${version} for Linux ${kernel.release} into ${root}`,
    logsDir,
    warnings,
    requires: ['make', 'install', ...toolchainPrograms(input.crossPrefix), ...kernelPrepareTools(kernel), ...(input.destdir ? [] : ['depmod', 'modprobe'])],
    steps,
  };
}
