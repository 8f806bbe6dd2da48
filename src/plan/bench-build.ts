/**
 * The plans of `armkit bench build`: the same module build (the make that the kmod spec's %build runs, against
 * the same Debian kernel headers) timed in each mode. One plan per mode that can run here, and the reason for
 * each that cannot:
 * - cross: the cross compiler on this host;
 * - native: the host's own compiler, when the host is the target;
 * - emulated: the target's own gcc and make in a Debian root of the target architecture (made by mmdebstrap and
 *   kept in the cache), run through binfmt_misc and qemu-user, as mock --forcearch does;
 * - guest: the same root booted as the initramfs of a full QEMU system guest (TCG), which times itself.
 * Pure: the host facts (binfmt handlers, root or not, what is cached) come in the input.
 */
import { dirname, join } from 'node:path';
import { type Arch, qemuUserName } from '../arch.js';

export { qemuUserName };

import type { Plan, Step } from '../step.js';
import { renderTemplate } from '../templates.js';
import { qemuArgv } from './guest-test.js';
import { cachedSource, type SourceInput } from './kmod.js';

export const BUILD_MODES = ['cross', 'native', 'emulated', 'guest'] as const;
export type BuildMode = (typeof BUILD_MODES)[number];

/** A Debian root of the target's architecture with its compiler and the kernel's headers (emulated, guest). */
export interface TargetRoot {
  dir: string;
  /** The root is in the cache already. */
  cached: boolean;
  /** Debian release (bookworm), its archive's sources lines and the packages to install. */
  suite: string;
  sources: string[];
  packages: string[];
  /** The header tree inside the root, as the root sees it. */
  headersDir: string;
  /** Its initramfs form (guest), kept beside it. */
  initramfs: { path: string; cached: boolean };
}

/** The mmdebstrap command that makes a target root at `dest` (the packages' own maintainer scripts run under qemu-user). */
export function mmdebstrapArgv(arch: Arch, root: Pick<TargetRoot, 'suite' | 'sources' | 'packages'>, dest: string): string[] {
  return [
    'mmdebstrap',
    '--variant=apt',
    `--architectures=${arch.debian.arch}`,
    `--include=${root.packages.join(',')}`,
    // What a build never reads: a smaller root is a smaller initramfs for the guest.
    ...['doc', 'locale', 'man', 'info'].map((d) => `--dpkgopt=path-exclude=/usr/share/${d}/*`),
    root.suite,
    dest,
    ...root.sources,
  ];
}

export interface GuestBench {
  kernelImage: string;
  /** Steps that put the kernel image into the cache. */
  prepare: Step[];
  timeoutSeconds: number;
  memoryMiB: number;
}

/** What of a kmod recipe the benchmark uses: its one module and the make command that builds it. */
export interface BenchRecipe {
  name: string;
  make: { target: string; vars: { kernelDir: string; arch: string; crossCompile: string } };
  module: { name: string; built: string };
}

export interface BenchBuildInput {
  recipe: BenchRecipe;
  arch: Arch;
  version: string;
  source: SourceInput;
  cacheDir: string;
  /** The kernel release every mode builds against, and its header tree on this host (cross, native). */
  kernel: { release: string; dir: string; prepare: Step[] };
  crossPrefix?: string;
  /** make -j, and the guest's CPUs. */
  jobs: number;
  warmup: number;
  runs: number;
  work: string;
  /** The modes asked for, in order; `unable` says why one cannot run here. */
  modes: Array<{ mode: BuildMode; unable?: string }>;
  root?: TargetRoot;
  guest?: GuestBench;
}

export type ModePlan = { mode: BuildMode; plan: Plan; how: string } | { mode: BuildMode; unable: string };

/** Where the source sits inside the root (emulated) and the guest. */
export const ROOT_SRC = '/armkit-bench/src';

/** The make command the kmod spec's %build runs (its %make_build line), with `target` as the goal. */
export function makeArgv(input: Pick<BenchBuildInput, 'recipe' | 'arch' | 'jobs'>, kernelDir: string, cross: string | undefined, target: string): string[] {
  const v = input.recipe.make.vars;
  return [
    'make',
    `-j${input.jobs}`,
    `${v.kernelDir}=${kernelDir}`,
    ...(cross ? [`${v.arch}=${input.arch.kernelArch}`, `${v.crossCompile}=${cross}`] : []),
    target,
  ];
}

/** Steps that put the source tree at `dest`: unpacked from the recipe's archive or a tarball, or copied. */
function sourceSteps(input: BenchBuildInput, dest: string): Step[] {
  const s = input.source;
  if (s.kind === 'directory') return [{ kind: 'copy', title: `Copy ${s.path}`, from: s.path, to: dest }];
  if (s.kind === 'tarball') return [{ kind: 'unpack', title: `Unpack ${s.path}`, archive: s.path, dest }];
  const archive = s.file ?? cachedSource(input.cacheDir, s.source);
  return [
    s.file
      ? { kind: 'verify', title: `Verify ${s.file} is ${s.source.file}`, path: s.file, sha256: s.source.sha256 }
      : { kind: 'fetch', title: `Fetch ${s.source.file}`, url: s.source.url, dest: archive, sha256: s.source.sha256 },
    { kind: 'unpack', title: `Unpack ${s.source.file}`, archive, dest },
  ];
}

/** Makes the target root once, into the cache: mmdebstrap into a partial directory, renamed when complete. */
function rootSteps(arch: Arch, root: TargetRoot): Step[] {
  if (root.cached) return [];
  const partial = `${root.dir}.partial`;
  return [
    { kind: 'remove', title: 'Clear a partial target root', path: partial },
    // mmdebstrap wants the directory above its target to exist.
    { kind: 'mkdir', title: 'Create the directory of target roots', path: dirname(root.dir) },
    {
      kind: 'exec',
      title: `Make a Debian ${root.suite} ${arch.debian.arch} root with ${root.packages.join(', ')} (mmdebstrap, under qemu-user)`,
      argv: mmdebstrapArgv(arch, root, partial),
      log: 'mmdebstrap.log',
    },
    { kind: 'remove', title: 'Clear a stale target root', path: root.dir },
    { kind: 'rename', title: 'Keep the target root in the cache', from: partial, to: root.dir },
  ];
}

function modePlan(input: BenchBuildInput, mode: BuildMode, rootFirst: boolean): ModePlan {
  const { recipe, arch } = input;
  const work = join(input.work, mode);
  const logsDir = join(work, 'logs');
  const what = `${recipe.name} ${input.version} for ${arch.rpm} against Linux ${input.kernel.release}`;
  const times = `best of ${input.runs} after ${input.warmup} warm-up run${input.warmup === 1 ? '' : 's'}`;
  const start: Step[] = [
    { kind: 'remove', title: `Clear the ${mode} work directory`, path: work },
    { kind: 'mkdir', title: 'Create the log directory', path: logsDir },
  ];
  const checkModule = (path: string): Step => ({
    kind: 'check-module',
    title: `Check ${recipe.module.name}.ko is ${arch.elf.name} for ${input.kernel.release}`,
    path,
    arch,
    release: input.kernel.release,
  });
  if (mode === 'cross' || mode === 'native') {
    const src = join(work, 'src');
    const cross = mode === 'cross' ? input.crossPrefix : undefined;
    const make = (target: string) => makeArgv(input, input.kernel.dir, cross, target);
    const steps: Step[] = [
      ...start,
      ...input.kernel.prepare,
      ...sourceSteps(input, src),
      {
        kind: 'timed-build',
        title: `Time ${make(recipe.make.target).join(' ')} (${times})`,
        argv: make(recipe.make.target),
        clean: make('clean'),
        cwd: src,
        // As the spec's %build: the build directory kept out of the module.
        env: { KCFLAGS: `-ffile-prefix-map=${src}=.` },
        warmup: input.warmup,
        runs: input.runs,
        log: 'make.log',
      },
      checkModule(join(src, recipe.module.built)),
    ];
    const compiler = cross ? `${cross}gcc` : 'gcc';
    return {
      mode,
      how: `${compiler} on this host`,
      plan: {
        summary: `bench build ${what}: ${mode} (${compiler})`,
        logsDir,
        warnings: [],
        requires: ['make', compiler, ...(input.kernel.prepare.length ? ['apt-get', 'dpkg-deb'] : [])],
        locks: [work],
        steps,
      },
    };
  }
  const root = input.root!;
  const rootPrep = rootFirst ? rootSteps(arch, root) : [];
  const makeTools = rootPrep.length ? ['mmdebstrap'] : [];
  if (mode === 'emulated') {
    const src = join(root.dir, ROOT_SRC.slice(1));
    // make -C: chroot starts in the root's /.
    const inRoot = (target: string) => ['chroot', root.dir, 'make', '-C', ROOT_SRC, ...makeArgv(input, root.headersDir, undefined, target).slice(1)];
    const steps: Step[] = [
      ...start,
      ...rootPrep,
      { kind: 'remove', title: 'Clear the source in the root', path: join(root.dir, 'armkit-bench') },
      ...sourceSteps(input, src),
      {
        kind: 'timed-build',
        title: `Time make ${recipe.make.target} in the ${arch.debian.arch} root under qemu-user (${times})`,
        argv: inRoot(recipe.make.target),
        clean: inRoot('clean'),
        env: { KCFLAGS: `-ffile-prefix-map=${ROOT_SRC}=.`, PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
        warmup: input.warmup,
        runs: input.runs,
        log: 'make.log',
      },
      checkModule(join(src, recipe.module.built)),
      { kind: 'remove', title: 'Take the source out of the root again', path: join(root.dir, 'armkit-bench') },
    ];
    return {
      mode,
      how: `gcc and make of a Debian ${arch.debian.arch} root, run by ${qemuUserName(arch)} through binfmt_misc`,
      plan: { summary: `bench build ${what}: emulated (qemu-user)`, logsDir, warnings: [], requires: ['chroot', ...makeTools], locks: [work, root.dir], steps },
    };
  }
  // guest: the root as the initramfs, the source and /init in a second archive appended to it.
  const guest = input.guest!;
  const overlay = join(work, 'overlay');
  const serial = join(logsDir, 'serial.log');
  const initrd = join(work, 'initramfs.cpio.gz');
  const q = arch.qemu!;
  const steps: Step[] = [
    ...start,
    ...rootPrep,
    ...guest.prepare,
    ...(root.initramfs.cached && !rootPrep.length
      ? []
      : ([
          { kind: 'pack-initramfs', title: 'Pack the target root as an initramfs', root: root.dir, archive: `${root.initramfs.path}.partial` },
          { kind: 'rename', title: 'Keep it in the cache', from: `${root.initramfs.path}.partial`, to: root.initramfs.path },
        ] as Step[])),
    ...sourceSteps(input, join(overlay, ROOT_SRC.slice(1))),
    {
      kind: 'write',
      title: 'Write the guest /init (times the build, then powers off)',
      path: join(overlay, 'init'),
      mode: 0o755,
      content: renderTemplate('bench/build-init.sh.ejs', {
        src: ROOT_SRC,
        labels: [...Array.from({ length: input.warmup }, (_, k) => `warmup-${k + 1}`), ...Array.from({ length: input.runs }, (_, k) => String(k + 1))],
        make: makeArgv(input, root.headersDir, undefined, recipe.make.target),
        clean: makeArgv(input, root.headersDir, undefined, 'clean'),
        built: recipe.module.built,
      }),
    },
    { kind: 'pack-initramfs', title: 'Pack the source and /init', root: overlay, archive: join(work, 'overlay.cpio.gz') },
    // The kernel unpacks concatenated archives one after the other: the root, then the source and /init over it.
    {
      kind: 'exec',
      title: 'Join the two archives into one initramfs',
      argv: ['cat', root.initramfs.path, join(work, 'overlay.cpio.gz')],
      stdoutFile: initrd,
      log: 'initramfs.log',
    },
    {
      kind: 'boot-guest',
      title: `Boot Linux ${input.kernel.release} in ${q.binary} (${q.machine}, ${q.cpu}, TCG, ${input.jobs} CPUs) and build there`,
      argv: qemuArgv(arch, guest.kernelImage, initrd, { memoryMiB: guest.memoryMiB, cpus: input.jobs }),
      serialLog: serial,
      log: 'qemu.log',
      timeoutSeconds: guest.timeoutSeconds,
    },
    { kind: 'guest-timings', title: 'Read the build times the guest measured', serialLog: serial, warmup: input.warmup, runs: input.runs },
  ];
  return {
    mode,
    how: `the same root booted in ${q.binary} -M ${q.machine} -cpu ${q.cpu} (TCG, ${input.jobs} vCPUs, ${guest.memoryMiB} MiB); timed by the guest's clock`,
    plan: {
      summary: `bench build ${what}: guest (${q.binary}, TCG)`,
      logsDir,
      warnings: [],
      requires: [q.binary, 'cat', ...makeTools],
      locks: [work, root.dir],
      steps,
    },
  };
}

export function planBenchBuild(input: BenchBuildInput): ModePlan[] {
  let rootMade = false;
  return input.modes.map(({ mode, unable }) => {
    if (unable) return { mode, unable };
    const usesRoot = mode === 'emulated' || mode === 'guest';
    const first = usesRoot && !rootMade;
    if (usesRoot) rootMade = true;
    return modePlan(input, mode, first);
  });
}
