/**
 * armkit test <recipe>: prove built packages on their target kernel in a QEMU system guest. Gathers what the
 * plan needs (the manifest of a build, whether its devel header is the real cryptodev.h, whether its source has
 * upstream's tests, the kernel image and busybox) and runs the plan.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findArch, type Arch } from '../arch.js';
import { ArmkitError, missing, usageError } from '../errors.js';
import { resolveGuestAssets } from '../guest/assets.js';
import { formatResults, summarize, type CheckResult } from '../guest/report.js';
import { defaultCacheDir } from '../paths.js';
import { planGuestTest, type Optional } from '../plan/guest-test.js';
import { chooseCross } from '../prereqs.js';
import { loadKmodRecipe } from '../recipes/load.js';
import type { Runner } from '../run/runner.js';
import type { Env } from './kmod-input.js';
import { info, printJson, printPlan } from './output.js';

export interface TestOptions {
  arch?: string;
  from?: string;
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

/** The newest build of the recipe for the arch under the output root. */
export function latestBuild(outRoot: string, recipe: string, arch: Arch): string {
  const base = join(outRoot, recipe);
  const candidates = (existsSync(base) ? readdirSync(base) : [])
    .map((version) => join(base, version, arch.rpm))
    .filter((dir) => existsSync(join(dir, 'manifest.json')))
    .map((dir) => ({ dir, at: String((JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { createdAt?: string }).createdAt ?? '') }))
    .sort((a, b) => a.at.localeCompare(b.at));
  if (candidates.length === 0) {
    throw usageError(`No ${recipe} build for ${arch.rpm} under ${base}: run "armkit build ${recipe} --arch ${arch.rpm} ..." first, or pass --from DIR.`);
  }
  return candidates[candidates.length - 1]!.dir;
}

async function unpackRpm(runner: Runner, rpm: string, dir: string, logFile: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const cpio = join(dir, '.payload.cpio');
  await runner.run(['rpm2cpio', rpm], { stdoutFile: cpio, logFile });
  await runner.run(['cpio', '-idm', '--quiet'], { cwd: dir, stdinFile: cpio, logFile });
  rmSync(cpio);
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

/** Upstream's `make check` programs, read from tests/Makefile (those that need OpenSSL libraries are left out). */
export function upstreamChecks(makefile: string): string[] {
  const text = `${readFileSync(makefile, 'utf8').replace(/\r\n/g, '\n')}\n`;
  const block = /^check:[^\n]*\n((?:\t[^\n]*\n)+)/m.exec(text)?.[1] ?? '';
  return [...block.matchAll(/^\t\.\/([A-Za-z0-9_-]+)\s*$/gm)].map((m) => m[1]!);
}

export async function testCommand(recipeName: string, options: TestOptions, env: Env, signal?: AbortSignal): Promise<CheckResult[] | undefined> {
  const { recipe } = loadKmodRecipe(recipeName, options.recipes ?? []);
  const arch = options.arch ? findArch(options.arch) : env.host.arch;
  if (!arch) throw usageError(`armkit does not know this host's architecture (${env.host.machine}); pass --arch.`);
  if (!arch.qemu) throw usageError(`No QEMU board armkit knows boots a ${arch.rpm} kernel (${arch.debian.flavour}); test those packages on the board.`);
  if (options.openssl) throw usageError('--openssl needs OpenSSL RPMs built by "armkit build openssl", which this version cannot build yet.');
  const timeoutSeconds = Number(options.timeout ?? 120);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw usageError(`--timeout ${options.timeout}: expected a number of seconds.`);

  const from = options.from ? resolve(options.from) : latestBuild(resolve(options.out ?? 'out'), recipe.name, arch);
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
  await unpackRpm(env.runner, devel, join(inputs, 'devel'), inputLog);
  const kat = katFromHeader(join(inputs, 'devel', 'usr', 'include', 'crypto', 'cryptodev.h'), devel.split('/').pop()!);

  await unpackRpm(env.runner, srpm, join(inputs, 'srpm'), inputLog);
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
  const plan = planGuestTest({ arch, release, module: recipe.module.name, packages: [kmod], assets, kat, upstream, toolPrefix, work, publishTo: join(from, 'logs'), timeoutSeconds });
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
