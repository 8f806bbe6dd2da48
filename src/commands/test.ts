/**
 * armkit test <recipe>: prove built packages on their target kernel in a QEMU system guest. Gathers what the
 * plan needs (the manifest of a build, whether its devel header is the real cryptodev.h, whether its source has
 * upstream's tests, the kernel image and busybox) and runs the plan.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findArch, type Arch } from '../arch.js';
import { ArmkitError, missing, usageError } from '../errors.js';
import { resolveGuestAssets } from '../guest/assets.js';
import { formatResults, summarize, type CheckResult } from '../guest/report.js';
import { defaultCacheDir } from '../paths.js';
import { latestBuild } from '../artifacts/builds.js';
import { unpackRpm } from '../artifacts/rpm-payload.js';
import { planGuestTest, type OpensslUnderTest, type Optional } from '../plan/guest-test.js';
import { chooseCross, findNeed, installCommands, staticLibcNeed } from '../prereqs.js';
import type { Host } from '../host.js';
import { loadKmodRecipe } from '../recipes/load.js';
import type { Env } from './kmod-input.js';
import { info, printJson, printPlan } from './output.js';

export interface TestOptions {
  arch?: string;
  /** Test the build made for this kernel (release or --kernel form). */
  kernel?: string;
  from?: string;
  opensslFrom?: string;
  out?: string;
  kernelImage?: string;
  openssl?: boolean;
  timeout?: string | number;
  recipes?: string[];
  cacheDir?: string;
  dryRun?: boolean;
  json?: boolean;
  verbose?: boolean;
}

interface BuildManifest {
  arch: string;
  version: string;
  kernel: { release: string };
  source: { file?: string };
  artifacts: Array<{ file: string; name: string; arch: string }>;
}


/** The known-answer program needs cryptodev-linux's own header, not a stand-in with the same name. */
export function katFromHeader(headerPath: string, develFile: string): Optional<{ includeDir: string }> {
  if (!existsSync(headerPath)) return { skip: `${develFile} has no crypto/cryptodev.h` };
  const text = readFileSync(headerPath, 'utf8');
  if (!/#define\s+CIOCGSESSION\b/.test(text) || !/#define\s+CIOCCRYPT\b/.test(text)) {
    return { skip: `crypto/cryptodev.h in ${develFile} is not cryptodev-linux's (no CIOCGSESSION/CIOCCRYPT): the known-answer test needs the real header and module` };
  }
  return { run: { includeDir: headerPath.replace(/\/crypto\/cryptodev\.h$/, '') } };
}

/**
 * The known-answer program is linked statically for the target. Without the target's libc.a it cannot be built:
 * a missing prerequisite where the host's package manager has it, a check that could not run where it has none.
 */
export function staticLibcFor(arch: Arch, host: Host): { skip: string } | undefined {
  const need = staticLibcNeed(arch, arch === host.arch);
  if (findNeed(need, host)) return undefined;
  const family = host.family === 'unknown' ? undefined : host.family;
  if (family && need.packages[family].length === 0) {
    return { skip: `no static C library for ${arch.rpm} on this host (${need.fedoraNone ?? 'no package provides one'})` };
  }
  throw missing(`The known-answer program needs ${need.name} (${need.files!.join(' or ')}), which is not installed.`, [
    `Install it with ${installCommands(need.packages).map((c) => `"${c}"`).join(' or ')} (or run "armkit doctor --arch ${arch.rpm} --for test --fix").`,
  ]);
}

/** Upstream's `make check` programs, read from tests/Makefile (those that need OpenSSL libraries are left out). */
export function upstreamChecks(makefile: string): string[] {
  const text = `${readFileSync(makefile, 'utf8').replace(/\r\n/g, '\n')}\n`;
  const block = /^check:[^\n]*\n((?:\t[^\n]*\n)+)/m.exec(text)?.[1] ?? '';
  return [...block.matchAll(/^\t\.\/([A-Za-z0-9_-]+)\s*$/gm)].map((m) => m[1]!);
}

/** The glibc files a dynamically linked program for the target needs, from the cross toolchain (or the host). */
export function targetRuntime(arch: Arch, native: boolean): Array<{ from: string; to: string }> {
  const dir = native ? `/lib/${arch.libc.triplet}` : `/usr/${arch.libc.triplet}/lib`;
  const loader = arch.libc.loader.split('/').pop()!;
  return [
    { from: join(dir, loader), to: arch.libc.loader },
    ...['libc.so.6', 'libm.so.6', 'libdl.so.2', 'libpthread.so.0', 'libgcc_s.so.1'].map((lib) => ({ from: join(dir, lib), to: `/lib/${lib}` })),
  ];
}

interface OpensslManifest {
  arch: string;
  opensslEngine?: { id: string; config: string | null };
  artifacts: Array<{ file: string; name: string; arch: string }>;
}

/** The newest armkit-built OpenSSL for the arch: the packages a system installs, its engine and its config file. */
async function opensslUnderTest(options: TestOptions, arch: Arch, env: Env): Promise<OpensslUnderTest> {
  const dir = options.opensslFrom ? resolve(options.opensslFrom) : latestBuild(resolve(options.out ?? 'out'), 'openssl', arch);
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) throw usageError(`${dir} holds no manifest.json from "armkit build openssl".`);
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as OpensslManifest;
  if (manifest.arch !== arch.rpm || !manifest.opensslEngine) throw usageError(`${dir} is not an armkit build of OpenSSL for ${arch.rpm}.`);
  const packages = manifest.artifacts
    .filter((a) => a.arch !== 'src' && !/-(devel|static|perl|debuginfo|debugsource|doc)$/.test(a.name))
    .map((a) => join(dir, a.file));
  if (packages.length === 0) throw missing(`${dir} has no binary OpenSSL packages.`);
  let configPath: string | undefined;
  const configName = manifest.opensslEngine.config?.split('/').pop();
  if (configName) {
    const listed = await env.runner.capture(['rpm', '-qpl', '--nosignature', ...packages]);
    configPath = listed.stdout.split('\n').find((f) => f.endsWith(`/${configName}`));
  }
  const runtime = targetRuntime(arch, arch === env.host.arch);
  const absent = runtime.filter((r) => !existsSync(r.from));
  if (absent.length > 0) {
    throw missing(`The target's C library is missing (${absent.map((r) => r.from).join(', ')}): the guest's openssl needs it.`, [
      `Install it with "apt-get install libc6-${arch.debian.arch}-cross" (it comes with the cross compiler's libc6-dev-${arch.debian.arch}-cross).`,
    ]);
  }
  return { packages, engine: manifest.opensslEngine.id, ...(configPath ? { configPath } : {}), runtime };
}

export async function testCommand(recipeName: string, options: TestOptions, env: Env, signal?: AbortSignal): Promise<CheckResult[] | undefined> {
  const { recipe } = loadKmodRecipe(recipeName, options.recipes ?? []);
  const arch = options.arch ? findArch(options.arch) : env.host.arch;
  if (!arch) throw usageError(`armkit does not know this host's architecture (${env.host.machine}); pass --arch.`);
  if (!arch.qemu) throw usageError(`No QEMU board armkit knows boots a ${arch.rpm} kernel (${arch.debian.flavour}); test those packages on the board.`);
  const timeoutSeconds = Number(options.timeout ?? 120);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw usageError(`--timeout ${options.timeout}: expected a number of seconds.`);

  const from = options.from ? resolve(options.from) : latestBuild(resolve(options.out ?? 'out'), recipe.name, arch, options.kernel);
  const manifestFile = join(from, 'manifest.json');
  if (!existsSync(manifestFile)) throw usageError(`${from} holds no manifest.json from "armkit build".`);
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as BuildManifest;
  if (manifest.arch !== arch.rpm) throw usageError(`${from} holds ${manifest.arch} packages, not ${arch.rpm}; pass --arch ${manifest.arch}.`);
  const pick = (test: (a: BuildManifest['artifacts'][number]) => boolean, what: string) => {
    const a = manifest.artifacts.find(test);
    if (!a || !existsSync(join(from, a.file))) throw missing(`${from} has no ${what} package.`);
    return join(from, a.file);
  };
  const kmod = pick((a) => a.name.startsWith(`kmod-${recipe.module.name}-`), `kmod-${recipe.module.name}`);
  const devel = pick((a) => a.name.endsWith('-devel'), 'devel');
  const srpm = pick((a) => a.arch === 'src', 'source');
  const release = manifest.kernel.release;

  const cacheDir = options.cacheDir ? resolve(options.cacheDir) : defaultCacheDir();
  const work = join(cacheDir, 'work', `${recipe.name}-test-${arch.rpm}-${createHash('sha256').update(from).digest('hex').slice(0, 10)}`);
  const inputs = join(work, 'inputs');
  rmSync(inputs, { recursive: true, force: true });
  const inputLog = join(inputs, 'unpack.log');
  await unpackRpm(env.runner, devel, join(inputs, 'devel'), { logFile: inputLog });
  let kat = katFromHeader(join(inputs, 'devel', 'usr', 'include', 'crypto', 'cryptodev.h'), devel.split('/').pop()!);
  if ('run' in kat) kat = staticLibcFor(arch, env.host) ?? kat;

  await unpackRpm(env.runner, srpm, join(inputs, 'srpm'), { logFile: inputLog });
  let upstream: Optional<{ srcDir: string; programs: string[] }> = { skip: 'the source RPM has no source archive' };
  const archive = manifest.source.file ? join(inputs, 'srpm', manifest.source.file) : undefined;
  if (archive && existsSync(archive)) {
    const tar = await import('tar');
    const src = join(inputs, 'src');
    mkdirSync(src, { recursive: true });
    await tar.x({ file: archive, cwd: src, strip: 1 });
    const makefile = join(src, 'tests', 'Makefile');
    const programs = existsSync(makefile) ? upstreamChecks(makefile) : [];
    upstream = programs.length > 0 ? { run: { srcDir: src, programs } } : { skip: `the source (${manifest.source.file}) has no tests/ with a "check" target: upstream's tests are cryptodev-linux's` };
  }
  if ('run' in upstream && 'skip' in kat) upstream = { skip: 'upstream tests need the real cryptodev-linux module and header' };

  const assets = await resolveGuestAssets(arch, release, options.kernelImage ? resolve(options.kernelImage) : undefined, { cacheDir, host: env.host, runner: env.runner, warn: env.warn });
  const toolPrefix = arch === env.host.arch ? '' : chooseCross(arch, env.host).prefix;
  let openssl: Optional<OpensslUnderTest> | undefined;
  if (options.openssl || options.opensslFrom) {
    openssl = 'skip' in kat ? { skip: 'the OpenSSL engine needs the real cryptodev-linux module and header' } : { run: await opensslUnderTest(options, arch, env) };
  }
  const plan = planGuestTest({ arch, release, module: recipe.module.name, packages: [kmod], assets, kat, upstream, toolPrefix, ...(openssl ? { openssl } : {}), work, publishTo: join(from, 'logs'), timeoutSeconds });
  if (options.dryRun) {
    printPlan(plan, Boolean(options.json));
    return undefined;
  }
  info(`armkit: ${plan.summary} (kernel from ${assets.source})`);
  const { execute } = await import('../run/execute.js');
  try {
    const { guestResults = [] } = await execute(plan, { runner: env.runner, host: env.host, verbose: Boolean(options.verbose), signal, warn: env.warn });
    if (options.json) printJson({ ok: true, summary: summarize(guestResults), results: guestResults, serialLog: join(from, 'logs', 'test-serial.log') });
    else {
      for (const line of formatResults(guestResults)) info(line);
      info(`armkit: ${summarize(guestResults)}; serial log: ${join(from, 'logs', 'test-serial.log')}`);
    }
    return guestResults;
  } catch (error) {
    if (error instanceof ArmkitError && error.kind === 'verification' && error.payload) info(`armkit: serial log: ${join(from, 'logs', 'test-serial.log')}`);
    throw error;
  }
}
