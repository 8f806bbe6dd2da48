/**
 * armkit bench build: the same module build timed in each mode (cross, native, emulated, guest), the brief's way:
 * a warm-up run, then the best of N, in seconds and as a percent of the fastest, beside the host's CPU, cores and
 * memory. This module learns the outside world (binfmt_misc, the cache, the kernel and source); the plans are
 * src/plan/bench-build.ts, the report src/speed/build-report.ts and its chart src/speed/build-chart.ts.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { type Arch, findArch } from '../arch.js';
import { ArmkitError, usageError } from '../errors.js';
import { ensureDir } from '../fsutil.js';
import { resolveGuestAssets } from '../guest/assets.js';
import { resolveKernel } from '../kernel/resolve.js';
import { defaultCacheDir } from '../paths.js';
import { assertPlainPath } from '../plain.js';
import {
  type BenchBuildInput,
  type BenchRecipe,
  BUILD_MODES,
  type BuildMode,
  type GuestBench,
  makeArgv,
  planBenchBuild,
  qemuUserName,
  type TargetRoot,
} from '../plan/bench-build.js';
import { sourceVersion } from '../plan/kmod.js';
import { chooseCross, installHint } from '../prereqs.js';
import { shellQuote } from '../proc/quote.js';
import { loadKmodRecipe } from '../recipes/load.js';
import { selectSource } from '../recipes/select.js';
import { execute } from '../run/execute.js';
import { planToShell } from '../run/shell.js';
import { renderBuildChart } from '../speed/build-chart.js';
import { type BuildBenchReport, buildBenchReport, buildBenchTable, type HostFacts, type ModeOutcome } from '../speed/build-report.js';
import type { BuildTimes } from '../speed/build-steps.js';
import { STEP_KINDS } from '../steps/index.js';
import { executeOptions } from './env.js';
import { chooseSource, type Env } from './kmod-input.js';
import { info, printJson } from './output.js';

export interface BenchBuildOptions {
  recipe?: string;
  arch?: string;
  modes?: string;
  runs?: string;
  kernel?: string;
  source?: string;
  version?: string;
  recipes?: string[];
  cacheDir?: string;
  timeout?: string;
  out?: string;
  json?: boolean;
  chart?: string;
  dryRun?: boolean;
  verbose?: boolean;
}

/** The boards armkit is for: without --arch the benchmark compares the ways of building for aarch64. */
export const DEFAULT_ARCH = 'aarch64';
const WARMUP = 1;
/** The guest holds the whole target root in its initramfs (unpacked into memory) and builds there. */
const GUEST_MEMORY_MIB = 3072;

export function parseModes(text: string | undefined): BuildMode[] {
  if (text === undefined) return [...BUILD_MODES];
  const modes = text
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  if (modes.length === 0) throw usageError(`--modes: give one or more of ${BUILD_MODES.join(', ')}.`);
  for (const m of modes) if (!(BUILD_MODES as readonly string[]).includes(m)) throw usageError(`--modes ${m}: expected ${BUILD_MODES.join(', ')}.`);
  if (new Set(modes).size !== modes.length) throw usageError(`--modes ${text}: a mode is named twice.`);
  return modes as BuildMode[];
}

export function parseCount(text: string | undefined, flag: string, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw usageError(`${flag} ${text}: expected a whole number from 1 to ${max}.`);
  return n;
}

/** What binfmt_misc says about running `arch`'s programs here: undefined when the kernel runs them through qemu-user. */
export function binfmtProblem(arch: Arch, read: (path: string) => string | undefined): string | undefined {
  const name = qemuUserName(arch);
  const dir = '/proc/sys/fs/binfmt_misc';
  const install =
    'install qemu-user-static and binfmt-support ("apt-get install qemu-user-static binfmt-support"; Fedora: "dnf install qemu-user-static"), which register it';
  if (read(`${dir}/status`) === undefined) {
    return `the kernel cannot run ${arch.rpm} programs here: binfmt_misc is not mounted (${dir} is empty); mount it ("mount -t binfmt_misc binfmt_misc ${dir}", in a container the host must allow it), then ${install}`;
  }
  const entry = read(`${dir}/${name}`);
  if (entry === undefined) return `the kernel cannot run ${arch.rpm} programs here: binfmt_misc has no ${name} entry; ${install}`;
  if (!/^enabled/m.test(entry)) return `binfmt_misc's ${name} entry is disabled: enable it ("update-binfmts --enable ${name}")`;
  const interpreter = /^interpreter (\S+)/m.exec(entry)?.[1];
  const fixed = /^flags:.*F/m.test(entry);
  if (interpreter && !fixed && read(interpreter) === undefined) {
    return `binfmt_misc's ${name} entry names ${interpreter}, which is missing, and is not fixed (flag F), so nothing inside a root could run it either`;
  }
  if (!fixed)
    return `binfmt_misc's ${name} entry is registered without the F flag: its interpreter ${interpreter ?? ''} would have to exist inside the root; qemu-user-static's entry has it`;
  return undefined;
}

const readOrUndefined = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** `deb URI SUITE COMPONENTS` lines of armkit's private apt state for the target (its options dropped: mmdebstrap sets the architecture). */
export function sourcesLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.+)$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => Boolean(m))
    .map((m) => `deb ${m[1]} ${m[2]} ${m[3]!.trim()}`);
}

export function hostFacts(): HostFacts {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model?.trim() || os.machine(),
    cores: cpus.length,
    memoryGiB: os.totalmem() / 2 ** 30,
    machine: os.machine(),
    kernel: os.release(),
  };
}

export async function benchBuildCommand(options: BenchBuildOptions, env: Env, signal?: AbortSignal): Promise<BuildBenchReport | undefined> {
  const modes = parseModes(options.modes);
  const runs = parseCount(options.runs, '--runs', 3, 50);
  // TCG builds slowly (cryptodev-linux 1.14 took 9 to 14 minutes a run here): half an hour per run, the warm-up included.
  const timeout = parseCount(options.timeout, '--timeout', 1800 * (WARMUP + runs), 48 * 3600);
  if (options.chart && !options.chart.endsWith('.svg')) throw usageError(`--chart ${options.chart}: the chart is an SVG file (FILE.svg).`);
  const arch = findArch(options.arch ?? DEFAULT_ARCH);
  const host = env.host;
  const loaded = loadKmodRecipe(options.recipe ?? 'cryptodev', options.recipes ?? []).recipe;
  if (!loaded.make || !loaded.module.built) {
    throw usageError(`bench build times a recipe that names its make command and its module (as cryptodev's does); ${loaded.name} does not.`);
  }
  const recipe: BenchRecipe = { name: loaded.name, make: loaded.make, module: { name: loaded.module.name, built: loaded.module.built } };
  const cacheDir = options.cacheDir ? resolve(options.cacheDir) : defaultCacheDir();
  assertPlainPath(cacheDir, 'The cache directory', 'set ARMKIT_CACHE_DIR or --cache-dir to a path of letters, digits and ._/+-');
  if (!options.dryRun) ensureDir(cacheDir);
  const native = arch === host.arch;
  const kernelSpec = options.kernel ?? 'debian:latest';
  const ctx = { cacheDir, host, runner: env.runner, warn: env.warn, dryRun: options.dryRun };
  // Every mode builds against this kernel: on this host its Debian header packages unpacked (cross, native), in the
  // target root the same packages installed (emulated, guest).
  const kernel = await resolveKernel(kernelSpec, arch, native, ctx);
  assertPlainPath(kernel.dir, 'The kernel header directory', 'copy or link it to a path of letters, digits and ._/+-');
  const { source } = await chooseSource({ source: options.source, version: options.version }, loaded, () => ({
    kind: 'recipe',
    source: selectSource(loaded, kernel.version, options.version),
  }));
  const version = sourceVersion(source);
  const cross = chooseCross(arch, host).prefix;

  const unable = new Map<BuildMode, string>();
  if (!host.which(`${cross}gcc`)) unable.set('cross', installHint(`${cross}gcc`));
  if (!native) {
    unable.set(
      'native',
      `a native build runs the ${arch.rpm} compiler on an ${arch.rpm} machine, and this host is ${host.machine} (the emulated column runs the ${arch.rpm} compiler here, under qemu-user)`,
    );
  }
  // The target root: Debian's own compiler and the kernel's header package, for the target's architecture.
  let root: TargetRoot | undefined;
  let rootProblem: string | undefined;
  if (kernel.source !== 'debian') {
    rootProblem = `the target root installs the kernel's headers from Debian's archive, and --kernel ${kernelSpec} is not a Debian kernel (use debian:latest or debian:ABI-FLAVOUR)`;
  } else if (!host.isRoot) {
    rootProblem = 'making the target root (mmdebstrap) and building inside it (chroot) need root on this host';
  } else if (!native && binfmtProblem(arch, readOrUndefined)) {
    rootProblem = binfmtProblem(arch, readOrUndefined);
  } else {
    const suite = host.codename ?? 'bookworm';
    const sources = sourcesLines(readOrUndefined(join(cacheDir, 'apt', arch.debian.arch, 'sources.list')) ?? '');
    const packages = ['make', 'gcc', 'mount', `linux-headers-${kernel.release}`];
    const key = createHash('sha256')
      .update(JSON.stringify([arch.debian.arch, suite, sources, packages]))
      .digest('hex')
      .slice(0, 10);
    const dir = join(cacheDir, 'bench', 'roots', `${arch.debian.arch}-${kernel.release}-${key}`);
    const cached = existsSync(join(dir, 'usr', 'src', `linux-headers-${kernel.release}`));
    root = {
      dir,
      cached,
      suite,
      sources: sources.length ? sources : [`deb http://deb.debian.org/debian ${suite} main`],
      packages,
      headersDir: `/usr/src/linux-headers-${kernel.release}`,
      initramfs: { path: `${dir}.cpio.gz`, cached: cached && existsSync(`${dir}.cpio.gz`) },
    };
    if (!cached && !host.which('mmdebstrap')) rootProblem = `the target root is made by mmdebstrap: ${installHint('mmdebstrap')}`;
    else if (!host.which('chroot')) rootProblem = installHint('chroot');
  }
  if (native) unable.set('emulated', `the host is ${host.machine} itself: there is nothing to emulate (the native column is this host's own compiler)`);
  else if (rootProblem) unable.set('emulated', rootProblem);

  let guest: GuestBench | undefined;
  if (!arch.qemu) unable.set('guest', `armkit knows no QEMU board for ${arch.rpm}`);
  else if (rootProblem) unable.set('guest', `the guest boots the target root, which cannot be made here: ${rootProblem}`);
  else if (modes.includes('guest')) {
    try {
      const assets = await resolveGuestAssets(arch, kernel.release, undefined, ctx);
      guest = { kernelImage: assets.kernelImage, prepare: assets.prepare, timeoutSeconds: timeout, memoryMiB: GUEST_MEMORY_MIB };
      if (!host.which(arch.qemu.binary)) unable.set('guest', installHint(arch.qemu.binary));
    } catch (error) {
      if (!(error instanceof ArmkitError) || error.kind === 'interrupted') throw error;
      unable.set('guest', `no kernel image to boot: ${error.message}`);
    }
  }

  const stamp = env.now.toISOString().replace(/[:.]/g, '-');
  const input: BenchBuildInput = {
    recipe,
    arch,
    version,
    source,
    cacheDir,
    kernel: { release: kernel.release, dir: kernel.dir, prepare: kernel.prepare },
    crossPrefix: cross,
    jobs: host.cpus,
    warmup: WARMUP,
    runs,
    work: join(cacheDir, 'work', `bench-build-${recipe.name}-${arch.rpm}`),
    modes: modes.map((mode) => ({ mode, ...(unable.has(mode) ? { unable: unable.get(mode)! } : {}) })),
    ...(root ? { root } : {}),
    ...(guest ? { guest } : {}),
  };
  const plans = planBenchBuild(input);
  if (options.dryRun) {
    if (options.json) printJson({ ok: true, dryRun: true, modes: plans });
    else {
      for (const p of plans) {
        if ('unable' in p) process.stdout.write(`#!/bin/sh\n# armkit bench build: ${p.mode}: cannot run here: ${p.unable}\n\n`);
        else process.stdout.write(`${planToShell(p.plan, STEP_KINDS)}\n`);
      }
    }
    return undefined;
  }

  const outcomes: ModeOutcome[] = [];
  let noRoot: string | undefined;
  for (const p of plans) {
    if (!('unable' in p) && noRoot && (p.mode === 'emulated' || p.mode === 'guest')) {
      outcomes.push({ mode: p.mode, how: p.how, failed: `it needs the target root, which could not be made: ${noRoot}` });
      continue;
    }
    if ('unable' in p) {
      env.warn(`bench build: ${p.mode} cannot run here: ${p.unable}`);
      outcomes.push({ mode: p.mode, unable: p.unable });
      continue;
    }
    info(`armkit: ${p.plan.summary}`);
    try {
      const result = await execute(p.plan, { ...executeOptions(STEP_KINDS, env, { verbose: options.verbose }, signal), host });
      const timed = result.steps.find((s) => s.kind === 'timed-build' || s.kind === 'guest-timings');
      outcomes.push({ mode: p.mode, how: p.how, times: timed!.result as BuildTimes });
    } catch (error) {
      if (!(error instanceof ArmkitError) || error.kind === 'interrupted') throw error;
      env.warn(`bench build: ${p.mode} failed: ${error.message}`);
      const failed = `${error.message}${error.logFile ? ` (log: ${error.logFile})` : ''}`;
      outcomes.push({ mode: p.mode, how: p.how, failed });
      if (root && !existsSync(root.dir)) noRoot = failed;
    }
  }
  const report = buildBenchReport(
    {
      recipe: recipe.name,
      version,
      arch: arch.rpm,
      kernel: kernel.release,
      build: `${makeArgv({ recipe, arch, jobs: host.cpus }, 'KERNEL_DIR', undefined, recipe.make.target)
        .map(shellQuote)
        .join(' ')
        .replace('=KERNEL_DIR', '=<headers>')} (the kmod spec's %build)`,
      runs,
      warmup: WARMUP,
      host: hostFacts(),
    },
    outcomes,
  );
  const outDir = resolve(options.out ?? 'out', 'bench', 'build', stamp);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  if (options.chart) {
    const file = resolve(options.chart);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, renderBuildChart(report));
  }
  const failed = report.modes.filter((m) => m.status === 'failed');
  const measured = report.modes.filter((m) => m.status === 'measured');
  if (!options.json) process.stdout.write(`${buildBenchTable(report).join('\n')}\n`);
  info(`armkit: report.json in ${outDir}${options.chart ? `; chart written to ${resolve(options.chart)}` : ''}`);
  if (failed.length || measured.length === 0) {
    throw new ArmkitError(
      failed.length ? 'step-failed' : 'prerequisite',
      failed.length
        ? `bench build: ${failed.map((m) => m.mode).join(', ')} failed (the other modes' figures are above).`
        : 'bench build: no mode could run here (each reason is above).',
      { details: [...failed, ...report.modes.filter((m) => m.status === 'unable')].map((m) => `${m.mode}: ${m.reason}`), payload: report },
    );
  }
  if (options.json) printJson({ ok: true, ...report, reportFile: join(outDir, 'report.json'), ...(options.chart ? { chart: resolve(options.chart) } : {}) });
  return report;
}
