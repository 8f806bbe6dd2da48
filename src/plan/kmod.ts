/**
 * Plans for the kmod recipes (cryptodev): `build` makes kmod + devel RPMs and the source RPM with rpmbuild;
 * `install` builds with the upstream Makefile and installs onto this system (or a --destdir).
 * Pure: everything the plan depends on is in its arguments.
 */
import { createHash } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import type { Arch } from '../arch.js';
import type { DkmsBuild, MakeWord } from '../dkms/model.js';
import type { EngineName, Mode } from '../engines/engine.js';
import { ENGINES } from '../engines/index.js';
import { usageError } from '../errors.js';
import type { ResolvedKernel } from '../kernel/resolve.js';
import type { ModuleSigning } from '../kernel/signing.js';
import type { Manifest, ManifestFacts } from '../manifest.js';
import { isPlainName } from '../plain.js';
import { toolchainPrograms } from '../prereqs.js';
import type { KmodRecipe, RecipeSource } from '../recipes/schema.js';
import { KERNEL_RELEASE, type Plan, type Step } from '../step.js';
import { MultilineText, renderTemplate } from '../templates.js';

export type SourceInput =
  /** A recipe source: downloaded into the cache, or `file` given by the user with the recipe's checksum. */
  | { kind: 'recipe'; source: RecipeSource; file?: string }
  | { kind: 'tarball'; path: string; topdir: string; version: string }
  | { kind: 'directory'; path: string; version: string };

export type { Mode } from '../engines/engine.js';

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
  /** Seconds since the epoch the build is dated: build time, file times and the changelog's date. */
  sourceDateEpoch: number;
  /** The recipe's license files this source has (a local source may have none of them). */
  licenseFiles: string[];
  armkitVersion: string;
  /** A DKMS recipe's dkms.conf as it reads for this kernel (src/dkms/): its make command, modules and patches. */
  dkms?: DkmsBuild;
}

/** A module the kmod package installs: where make leaves it and its directory under /lib/modules/<release>/. */
export interface PackagedModule {
  name: string;
  built: string;
  dest: string;
}

/** Every module of the package: a DKMS recipe's from its dkms.conf, a one-module recipe's from the recipe. */
export function packagedModules(input: Pick<KmodPlanInput, 'recipe' | 'dkms'>): PackagedModule[] {
  if (input.dkms) return input.dkms.modules;
  const m = input.recipe.module;
  return [{ name: m.name, built: m.built, dest: `extra/${m.installDir}` }];
}

/** The module directories the package owns: its own, not the kernel's shared ones (extra, updates, kernel/...). */
function ownedDirs(modules: PackagedModule[]): string[] {
  const shared = /^(extra|updates|updates\/dkms|kernel(\/.*)?)$/;
  const own = new Set<string>();
  for (const m of modules) {
    if (!shared.test(m.dest) || /^kernel\/.+/.test(m.dest)) own.add(m.dest);
  }
  // A module under kernel/ lands in a directory of its own only if no kernel package has it: keep the leaf only.
  return [...own].filter((d) => !/^kernel\//.test(d) || modules.some((m) => m.dest === d)).sort();
}

export interface BuildPlanInput extends KmodPlanInput {
  /** Output root (out/); results go to kmodDest(). */
  outDir: string;
  /** Skip BuildRequires checks: the host's rpm database does not list its packages (Debian). */
  nodeps: boolean;
  engine: EngineName;
  hostArch: Arch | undefined;
  /** The build's cache key and what went into it (src/plan/build-key.ts). */
  inputs: { key: string } & Record<string, unknown>;
  /** A build in the cache with the same key: publish it instead of building. */
  cached?: string;
  /** mock config or Copr chroot, for the chroot engines; the Copr project; how long to wait for a remote build. */
  chroot?: string;
  coprProject?: string;
  waitSeconds?: number;
  /**
   * Where builds run under a fixed name (a link to the work directory): the source RPM records its build's
   * paths (rpm stores the expanded spec), so the same inputs must build at the same path wherever the cache is.
   */
  buildRoot: string;
  /** The kernel header tree's path with every link resolved (kbuild compiles with it): mapped out of the module. */
  kernelRealDir: string;
  /** The cached build's manifest: what it says of its files and of its source's checksum. */
  cachedManifest?: Pick<Manifest, 'artifacts' | 'source'>;
  /** What the inputs said that the user should know (a source without license files). */
  warnings: string[];
  /** Sign the module with this key (src/kernel/signing.ts): inside rpmbuild, checked before publishing. */
  signing?: ModuleSigning;
}

export interface InstallPlanInput extends KmodPlanInput {
  /** Stage under this directory instead of installing into / (no depmod, no modprobe). */
  destdir?: string;
  /** Release of the running kernel: modprobe only makes sense for it. */
  runningRelease: string;
  /** Sign the module with this key before installing it, then check the signature against the certificate. */
  signing?: ModuleSigning;
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
  if (source.kind === 'recipe' && source.source.deb) {
    // A Debian package (a DKMS package's .deb): verified as pinned, its source tree packed as Source0.
    const s = source.source;
    const member = source.source.deb;
    const deb = source.file ?? cachedSource(input.cacheDir, s);
    const root = join(dirname(sourcesDir), 'DEB');
    const file = `${s.topdir}.tar.gz`;
    return {
      steps: [
        source.file
          ? { kind: 'verify', title: `Verify ${source.file} is ${s.file}`, path: source.file, sha256: s.sha256 }
          : { kind: 'fetch', title: `Fetch ${s.file}`, url: s.url, dest: deb, sha256: s.sha256 },
        { kind: 'remove', title: 'Clear the unpacked package', path: root },
        { kind: 'mkdir', title: 'Create the directory it unpacks into', path: root },
        { kind: 'exec', title: `Unpack ${s.file}`, argv: ['dpkg-deb', '-x', deb, root], log: 'dpkg-deb.log' },
        {
          kind: 'pack',
          title: `Pack ${member} as ${file}`,
          dir: join(root, member),
          archive: join(sourcesDir, file),
          prefix: s.topdir,
          mtime: input.sourceDateEpoch,
        },
        { kind: 'remove', title: 'Drop the unpacked package', path: root },
      ],
      file,
      topdir: s.topdir,
    };
  }
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
    steps: [
      {
        kind: 'pack',
        title: `Pack ${source.path} as ${file}`,
        dir: source.path,
        archive: join(sourcesDir, file),
        prefix: topdir,
        mtime: input.sourceDateEpoch,
      },
    ],
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
  return renderTemplate('kmod/kmod.spec.ejs', {
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
    chroot: input.kernel.source === 'chroot' ? (input.kernel.release === 'newest' ? {} : { release: input.kernel.release }) : false,
    module: recipe.module.name,
    modules: packagedModules(input),
    // One module named like its package: the spec says %{kmod_name}, as it always has.
    single: !input.dkms,
    ownDirs: ownedDirs(packagedModules(input)),
    autoload: recipe.module.autoload,
    modprobeConf: Boolean(input.dkms?.modprobeConf.length),
    patches: input.dkms?.patches ?? [],
    exclusiveConfig: input.dkms?.exclusiveConfig ?? [],
    dkmsMake: input.dkms?.make ?? false,
    dkmsPreBuild: input.dkms?.preBuild ?? false,
    dkmsPostBuild: input.dkms?.postBuild ?? false,
    makeVars: recipe.make.vars,
    makeTarget: recipe.make.target,
    headers: recipe.headers,
    licenseFiles: input.licenseFiles,
    changelogDate: changelogDate(new Date(input.sourceDateEpoch * 1000)),
  });
}

export function renderModulesLoad(recipe: KmodRecipe): string {
  return renderTemplate('kmod/modules-load.conf.ejs', { module: recipe.module.name, package: recipe.package });
}

/** /etc/modprobe.d/<name>.conf of a DKMS recipe: its MODULES_CONF lines. */
export function renderModprobeConf(recipe: KmodRecipe, lines: string[]): string {
  return renderTemplate('kmod/modprobe.conf.ejs', { package: recipe.package, lines });
}

/** A tree that ships sign-file only as source: the step that builds it for this host, at `path`. */
function buildSignFile(signing: ModuleSigning | undefined, path: string): Step[] {
  if (!signing || !('source' in signing.signFile)) return [];
  return [
    {
      kind: 'exec',
      title: "Build the kernel's sign-file for this host",
      argv: ['gcc', '-O2', '-o', path, signing.signFile.source, '-lcrypto'],
      log: 'sign-file.log',
    },
  ];
}

/** What signing runs: sign-file links libcrypto, built here when the tree has only its source; openssl checks it. */
function signingTools(signing: ModuleSigning | undefined): string[] {
  if (!signing) return [];
  return ['source' in signing.signFile ? 'gcc' : undefined, 'openssl'].filter((p): p is string => Boolean(p));
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

/**
 * Where a kmod build is published: one directory per kernel release, so a build of version V for a second kernel
 * sits beside the first instead of replacing it: out/<recipe>/<version>/<arch>/<kernel release>/.
 */
export function kmodDest(outDir: string, recipe: KmodRecipe, version: string, arch: Arch, release: string): string {
  return join(outDir, recipe.name, version, arch.rpm, release);
}

/**
 * What makes two builds of the same inputs byte-identical (rpm 4.18): build time and file times clamped to
 * SOURCE_DATE_EPOCH (which the spec's changelog date also comes from), a fixed build host and payload compression
 * (the thread count would otherwise be stored in the header).
 */
export const REPRODUCIBLE_DEFINES: Array<[string, string]> = [
  ['use_source_date_epoch_as_buildtime', '1'],
  ['clamp_mtime_to_source_date_epoch', '1'],
  ['_buildhost', 'armkit'],
  ['_binary_payload', 'w9.gzdio'],
  ['_source_payload', 'w9.gzdio'],
];

export function planKmodBuild(input: BuildPlanInput): Plan {
  const { recipe, arch, kernel } = input;
  const version = sourceVersion(input.source);
  const work = workDirFor(input, 'build', input.outDir);
  const top = join(work, 'rpmbuild');
  const logsDir = join(work, 'logs');
  const specFile = join(top, 'SPECS', `${recipe.package}.spec`);
  const src = sourceSteps(input, join(top, 'SOURCES'));
  // In a chroot without a release asked for, the build itself learns the kernel (its newest kernel-devel).
  const chroot = kernel.source === 'chroot';
  const kernelRelease = chroot && kernel.release === 'newest' ? KERNEL_RELEASE : kernel.release;
  const kmodPrefix = `kmod-${recipe.module.name}-`;
  const kmodName = `${kmodPrefix}${kernelRelease === KERNEL_RELEASE ? '*' : kernelRelease}`;
  const dest = kmodDest(input.outDir, recipe, version, arch, kernelRelease);
  const release = releaseOf(input);
  const where = chroot ? `${input.engine} ${input.chroot}` : modeLabel(input);
  const against = kernelRelease === KERNEL_RELEASE ? "the chroot's newest kernel-devel" : `Linux ${kernel.release}`;
  const summary = `${recipe.name} ${version} for ${arch.rpm} (${where}) against ${against}`;
  const warnings: string[] = [];
  if (input.source.kind !== 'recipe') warnings.push(noChecksumWarning(input.source.path, release));
  warnings.push(...input.warnings, ...(input.signing?.warnings ?? []));
  const signing = input.signing;

  const manifest: ManifestFacts = {
    recipe: recipe.name,
    kind: 'kmod',
    package: recipe.package,
    version,
    release,
    arch: arch.rpm,
    mode: input.mode,
    engine: input.engine,
    ...(input.mode === 'cross' ? { crossCompile: input.crossPrefix } : {}),
    ...(input.chroot ? { chroot: input.chroot } : {}),
    kernel: {
      release: kernelRelease,
      version: kernel.version,
      spec: kernel.spec,
      dir: kernel.dir,
      ...(kernel.packages?.length ? { debianPackages: kernel.packages } : {}),
    },
    source:
      input.source.kind === 'recipe'
        ? { kind: 'recipe', url: input.source.source.url, file: input.source.source.file, sha256: input.source.source.sha256, verified: true }
        : { kind: input.source.kind, path: input.source.path, file: src.file, verified: false },
    ...(signing ? { moduleSignature: { signer: signing.signer, serial: signing.serial, certSha256: signing.certSha256 } } : {}),
    inputs: { ...input.inputs, sourceDateEpoch: input.sourceDateEpoch },
    armkit: input.armkitVersion,
  };

  if (input.cached) {
    // Every input is what it was for a build in the cache: publish that build again, run nothing else.
    return {
      summary: `${summary} (cached: ${input.inputs.key.slice(0, 12)})`,
      logsDir: join(input.cached, 'logs'),
      warnings,
      requires: [],
      locks: [dest],
      cached: true,
      steps: [
        {
          kind: 'publish',
          title: `Publish the cached build ${input.inputs.key.slice(0, 12)} to ${dest}`,
          artifacts: [join(input.cached, '*.rpm')],
          logsDir: join(input.cached, 'logs'),
          dest,
          manifest: {
            ...manifest,
            source: { ...manifest.source, ...(input.cachedManifest?.source.sha256 ? { sha256: input.cachedManifest.source.sha256 } : {}) },
          },
          ...(input.cachedManifest ? { known: input.cachedManifest.artifacts } : {}),
        },
      ],
    };
  }

  // The fixed paths rpmbuild sees: links to this build's rpmbuild tree and header tree, named by the key.
  const fixed = join(input.buildRoot, input.inputs.key.slice(0, 24));
  const fixedKernel = `${fixed}.kernel`;
  // A chroot's rpmbuild finds its own kernel-devel; this host's header paths are for builds here only.
  const defines: Array<[string, string]> = chroot ? [...REPRODUCIBLE_DEFINES] : [['kernel_dir', fixedKernel], ...REPRODUCIBLE_DEFINES];
  if (input.mode === 'cross') defines.push(['kernel_arch', arch.kernelArch], ['cross_compile', input.crossPrefix!]);
  // The key's and certificate's paths reach rpmbuild as defines, never the spec: the source RPM holds the spec.
  const signFile = join(work, 'sign-file');
  if (signing) {
    defines.push(['module_key', signing.key], ['module_cert', signing.cert]);
    if ('source' in signing.signFile) defines.push(['sign_file', signFile]);
  }
  const prefixMap = [...new Set([input.kernelRealDir, kernel.dir, fixedKernel])].map((d) => `-ffile-prefix-map=${d}=/usr/src/kernel`).join(' ');
  const engine = ENGINES[input.engine].plan({
    kind: 'kmod',
    arch,
    mode: input.mode,
    crossPrefix: input.crossPrefix,
    topdir: fixed,
    spec: join(fixed, 'SPECS', `${recipe.package}.spec`),
    srpmName: `${recipe.package}-${version}-${release}`,
    defines,
    // In the environment, not the spec: the source RPM stores the spec, and these paths are this machine's.
    env: { SOURCE_DATE_EPOCH: String(input.sourceDateEpoch), ...(chroot ? {} : { ARMKIT_KCFLAGS: prefixMap }) },
    nodeps: input.nodeps,
    results: join(work, 'results'),
    hostArch: input.hostArch,
    ...(input.chroot ? { chroot: input.chroot } : {}),
    ...(input.coprProject ? { coprProject: input.coprProject } : {}),
    ...(input.waitSeconds ? { waitSeconds: input.waitSeconds } : {}),
  });
  const stored = join(input.cacheDir, 'builds', input.inputs.key);

  const steps: Step[] = [
    { kind: 'remove', title: 'Clear the work directory', path: work },
    { kind: 'mkdir', title: 'Create the log directory', path: logsDir },
    ...kernel.prepare,
    ...['SOURCES', 'SPECS'].map((d): Step => ({ kind: 'mkdir', title: `Create rpmbuild/${d}`, path: join(top, d) })),
    { kind: 'symlink', title: `Build at the fixed path ${fixed}`, path: fixed, target: top },
    ...(chroot ? [] : [{ kind: 'symlink', title: 'and see the headers at a fixed path', path: fixedKernel, target: kernel.dir } as Step]),
    ...src.steps,
    ...(recipe.module.autoload
      ? [
          {
            kind: 'write',
            title: `Render ${recipe.module.name}.conf (modules-load.d)`,
            path: join(top, 'SOURCES', `${recipe.module.name}.conf`),
            content: renderModulesLoad(recipe),
          } as Step,
        ]
      : []),
    ...(input.dkms?.modprobeConf.length
      ? [
          {
            kind: 'write',
            title: `Render ${recipe.module.name}.modprobe.conf (MODULES_CONF)`,
            path: join(top, 'SOURCES', `${recipe.module.name}.modprobe.conf`),
            content: renderModprobeConf(recipe, input.dkms.modprobeConf),
          } as Step,
        ]
      : []),
    { kind: 'write', title: `Render ${recipe.package}.spec`, path: specFile, content: renderKmodSpec(input, src.file, src.topdir) },
    ...buildSignFile(signing, signFile),
    ...engine.steps,
    ...packagedModules(input).map(
      (m): Step => ({
        kind: 'check-module',
        title: `Check ${m.name}.ko in ${kmodName} is ${arch.elf.name} for ${against}`,
        path: join(engine.binaries, `${kmodName}-${version}-*.${arch.rpm}.rpm`),
        moduleInRpm: `lib/modules/${kernelRelease}/${m.dest}/${m.name}.ko`,
        scratch: join(work, 'payload'),
        arch,
        release: kernelRelease,
        packagePrefix: kmodPrefix,
        ...(signing ? { signature: { certPem: signing.certPem, signer: signing.signer } } : {}),
      }),
    ),
    {
      kind: 'publish',
      title: `Publish to ${dest}`,
      artifacts: engine.artifacts,
      logsDir,
      dest,
      manifest,
      sourceArchive: join(top, 'SOURCES', src.file),
      ...(kernelRelease === KERNEL_RELEASE ? { releaseFrom: kmodPrefix } : {}),
    },
    // The build cache: the same files under the build's key, for the next build with the same inputs (not for
    // "the chroot's newest", which changes under the same key).
    ...(kernelRelease === KERNEL_RELEASE
      ? []
      : ([
          { kind: 'remove', title: 'Clear a partial copy in the build cache', path: `${stored}.partial` },
          { kind: 'copy', title: `Keep the build in the cache (${input.inputs.key.slice(0, 12)})`, from: dest, to: `${stored}.partial` },
          { kind: 'remove', title: 'Clear the stale cached build', path: stored },
          { kind: 'rename', title: 'Complete the cached build', from: `${stored}.partial`, to: stored },
        ] as Step[])),
    { kind: 'remove', title: 'Drop the fixed-path links', path: fixed },
    ...(chroot ? [] : [{ kind: 'remove', title: 'and the header link', path: fixedKernel } as Step]),
  ];
  return {
    summary,
    logsDir,
    warnings: [...warnings, ...engine.warnings],
    requires: [
      ...engine.requires,
      ...(chroot ? [] : toolchainPrograms(input.crossPrefix)),
      ...kernelPrepareTools(kernel),
      ...signingTools(signing),
      ...(input.source.kind === 'recipe' && input.source.source.deb ? ['dpkg-deb'] : []),
      ...(input.dkms?.patches.length ? ['patch'] : []),
    ],
    locks: [work, dest, fixed],
    steps,
  };
}

/** The words of a dkms.conf command for a build in `srcDir` against `kernelDir` (the spec says %{kernel_dir} and "$PWD"). */
function dkmsArgv(words: MakeWord[], kernelDir: string, srcDir: string): string[] {
  return words.map((w) => w.map((p) => ('text' in p ? p.text : p.token === 'kernel_dir' ? kernelDir : srcDir)).join(''));
}

/** PRE_BUILD/POST_BUILD as DKMS runs them: from the build directory, skipped with a warning when not executable. */
function dkmsHook(field: 'PRE_BUILD' | 'POST_BUILD', words: MakeWord[], kernelDir: string, srcDir: string): Step {
  const [script, ...args] = dkmsArgv(words, kernelDir, srcDir);
  return {
    kind: 'exec',
    title: `dkms.conf ${field}: ${script}`,
    // The script and its words are arguments of a fixed shell line, never part of it.
    argv: [
      'sh',
      '-c',
      `if [ -x "$1" ]; then exec "$@"; fi; echo "armkit: dkms.conf ${field} script $1 is not executable: skipped, as DKMS does" >&2`,
      'sh',
      `./${script}`,
      ...args,
    ],
    cwd: srcDir,
    log: 'make.log',
  };
}

/** How the source reaches `srcDir` for an install: copied, unpacked, or (a DKMS .deb) its tree taken out of the package. */
function installSourceSteps(input: InstallPlanInput, work: string, srcDir: string): Step[] {
  const { source } = input;
  if (source.kind === 'directory') return [{ kind: 'copy', title: `Copy ${source.path}`, from: source.path, to: srcDir }];
  const steps: Step[] = [];
  const archive = source.kind === 'recipe' ? (source.file ?? cachedSource(input.cacheDir, source.source)) : source.path;
  if (source.kind === 'recipe') {
    const s = source.source;
    steps.push(
      source.file
        ? { kind: 'verify', title: `Verify ${source.file} is ${s.file}`, path: source.file, sha256: s.sha256 }
        : { kind: 'fetch', title: `Fetch ${s.file}`, url: s.url, dest: archive, sha256: s.sha256 },
    );
    if (s.deb) {
      const root = join(work, 'DEB');
      return [
        ...steps,
        { kind: 'mkdir', title: 'Create the directory it unpacks into', path: root },
        { kind: 'exec', title: `Unpack ${s.file}`, argv: ['dpkg-deb', '-x', archive, root], log: 'dpkg-deb.log' },
        { kind: 'copy', title: `Take ${s.deb} out of ${s.file}`, from: join(root, s.deb), to: srcDir },
      ];
    }
  }
  steps.push({ kind: 'unpack', title: `Unpack ${basename(archive)}`, archive, dest: srcDir });
  return steps;
}

/** A built module on its way to /lib/modules: where make left it, its name and its directory there. */
interface BuiltModule {
  name: string;
  built: string;
  dest: string;
}

/** A DKMS recipe's build, as DKMS runs it: patches, PRE_BUILD, its make command, POST_BUILD. */
function dkmsBuildSteps(dkms: DkmsBuild, input: InstallPlanInput, srcDir: string): Step[] {
  const { kernel } = input;
  const steps: Step[] = dkms.patches.map((p) => ({
    kind: 'exec',
    title: `Apply patches/${p}`,
    argv: ['patch', '-p1', '-i', join(srcDir, 'patches', p)],
    cwd: srcDir,
    log: 'patch.log',
  }));
  if (dkms.preBuild) steps.push(dkmsHook('PRE_BUILD', dkms.preBuild, kernel.dir, srcDir));
  const make = dkmsArgv(dkms.make, kernel.dir, srcDir);
  // As the spec runs it (and DKMS does): a bare "make" gets the jobs and the kernel release.
  if (make[0] === 'make') make.splice(1, 0, `-j${input.jobs}`, `KERNELRELEASE=${kernel.release}`);
  steps.push({ kind: 'exec', title: `dkms.conf make against Linux ${kernel.release}`, argv: make, cwd: srcDir, log: 'make.log' });
  if (dkms.postBuild) steps.push(dkmsHook('POST_BUILD', dkms.postBuild, kernel.dir, srcDir));
  return steps;
}

export function planKmodInstall(input: InstallPlanInput): Plan {
  const { recipe, arch, kernel, dkms } = input;
  if (recipe.dkms && !dkms) throw usageError(`${recipe.name} is a DKMS recipe whose dkms.conf was not read for Linux ${kernel.release}.`);
  const version = sourceVersion(input.source);
  const work = workDirFor(input, 'install', input.destdir ?? '/');
  const srcDir = join(work, 'src');
  const logsDir = join(work, 'logs');
  const root = input.destdir ?? '/';

  const steps: Step[] = [
    { kind: 'remove', title: 'Clear the work directory', path: work },
    { kind: 'mkdir', title: 'Create the log directory', path: logsDir },
    ...kernel.prepare,
    ...installSourceSteps(input, work, srcDir),
  ];
  let modules: BuiltModule[];
  if (dkms) {
    steps.push(...dkmsBuildSteps(dkms, input, srcDir));
    modules = dkms.modules;
  } else {
    const make0 = recipe.make;
    const make = ['make', `-j${input.jobs}`, `${make0.vars.kernelDir}=${kernel.dir}`];
    if (input.mode === 'cross') make.push(`${make0.vars.arch}=${arch.kernelArch}`, `${make0.vars.crossCompile}=${input.crossPrefix}`);
    make.push(make0.target);
    steps.push({ kind: 'exec', title: `make ${make0.target} against Linux ${kernel.release}`, argv: make, cwd: srcDir, log: 'make.log' });
    modules = [{ name: recipe.module.name, built: recipe.module.built, dest: join('extra', recipe.module.installDir) }];
  }
  const signing = input.signing;
  // As in a build's spec: the tree's sign-file, or its source built for this host first.
  const signFile = signing && ('source' in signing.signFile ? join(work, 'sign-file') : join(kernel.dir, 'scripts/sign-file'));
  if (signing && signFile) steps.push(...buildSignFile(signing, signFile));
  for (const m of modules) {
    const built = join(srcDir, m.built);
    const moduleDest = join(root, 'lib/modules', kernel.release, m.dest, `${m.name}.ko`);
    if (signing && signFile) {
      steps.push({
        kind: 'sign-module',
        title: `Sign ${m.name}.ko (${signing.signer})`,
        module: built,
        signFile,
        key: signing.key,
        cert: signing.cert,
        kernelDir: kernel.dir,
      });
    }
    steps.push(
      {
        kind: 'check-module',
        title: `Check ${m.name}.ko is ${arch.elf.name} for ${kernel.release}${signing ? `, signed by ${signing.signer}` : ''}`,
        path: built,
        arch,
        release: kernel.release,
        ...(signing ? { signature: { certPem: signing.certPem, signer: signing.signer } } : {}),
      },
      { kind: 'exec', title: `Install ${moduleDest}`, argv: ['install', '-D', '-m', '0644', built, moduleDest], log: 'install.log' },
    );
  }
  for (const h of recipe.headers) {
    const to = join(root, 'usr/include', h.to);
    steps.push({ kind: 'exec', title: `Install ${to}`, argv: ['install', '-D', '-m', '0644', join(srcDir, h.from), to], log: 'install.log' });
  }
  if (recipe.module.autoload) {
    steps.push({
      kind: 'write',
      title: `Write modules-load.d/${recipe.module.name}.conf`,
      path: join(root, 'etc/modules-load.d', `${recipe.module.name}.conf`),
      content: renderModulesLoad(recipe),
    });
  }
  if (dkms?.modprobeConf.length) {
    steps.push({
      kind: 'write',
      title: `Write modprobe.d/${recipe.package}.conf (MODULES_CONF)`,
      path: join(root, 'etc/modprobe.d', `${recipe.package}.conf`),
      content: renderModprobeConf(recipe, dkms.modprobeConf),
    });
  }
  const warnings: string[] = [...(signing?.warnings ?? [])];
  if (input.source.kind !== 'recipe') warnings.push(noChecksumWarning(input.source.path));
  if (!input.destdir) {
    steps.push({ kind: 'exec', title: `depmod -a ${kernel.release}`, argv: ['depmod', '-a', kernel.release], log: 'depmod.log' });
    if (dkms) {
      // As DKMS installs: the modules are in place for modprobe and udev, nothing is loaded.
      warnings.push(`Installed, not loaded (as DKMS installs): load with modprobe ${modules.map((m) => m.name).join(', ')}.`);
    } else if (kernel.release === input.runningRelease) {
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
    requires: [
      'make',
      'install',
      ...toolchainPrograms(input.crossPrefix),
      ...kernelPrepareTools(kernel),
      ...signingTools(signing),
      ...(dkms?.patches.length ? ['patch'] : []),
      ...(input.source.kind === 'recipe' && input.source.source.deb ? ['dpkg-deb'] : []),
      ...(input.destdir ? [] : ['depmod', 'modprobe']),
    ],
    steps,
  };
}
