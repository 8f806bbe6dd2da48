/**
 * armkit test <recipe>: prove built packages on their target kernel in a QEMU system guest. Gathers what the
 * plan needs (the manifest of a build, whether its devel header is the real cryptodev.h, whether its source has
 * upstream's tests, the kernel image and busybox) and runs the plan.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Arch, findArch } from '../arch.js';
import { hashTree } from '../artifacts/build-cache.js';
import { latestBuild } from '../artifacts/builds.js';
import { sha256File } from '../artifacts/hash.js';
import { unpackRpm } from '../artifacts/rpm-payload.js';
import { missing, usageError } from '../errors.js';
import { resolveGuestAssets } from '../guest/assets.js';
import type { CheckResult } from '../guest/report.js';
import type { Host } from '../host.js';
import { type Manifest, readManifest } from '../manifest.js';
import { defaultCacheDir, TEMPLATES } from '../paths.js';
import { type BuiltProgram, type OpensslUnderTest, type Optional, planGuestTest } from '../plan/guest-test.js';
import { chooseCross, findNeed, installCommands, staticLibcNeed } from '../prereqs.js';
import { loadKmodRecipe } from '../recipes/load.js';
import { packagesFromRepo } from '../repo/read.js';
import { scratch } from '../scratch.js';
import { renderTemplate } from '../templates.js';
import { runGuestTest } from './guest-run.js';
import type { Env } from './kmod-input.js';
import { secondsOf } from './option-values.js';
import type { TestOptions } from './test-options.js';

export type { TestOptions };

/** The known-answer program needs cryptodev-linux's own header, not a stand-in with the same name. */
export function katFromHeader(text: string | undefined, develFile: string): Optional<true> {
  if (text === undefined) return { skip: `${develFile} has no crypto/cryptodev.h` };
  if (!/#define\s+CIOCGSESSION\b/.test(text) || !/#define\s+CIOCCRYPT\b/.test(text)) {
    return {
      skip: `crypto/cryptodev.h in ${develFile} is not cryptodev-linux's (no CIOCGSESSION/CIOCCRYPT): the known-answer test needs the real header and module`,
    };
  }
  return { run: true };
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
    `Install it with ${installCommands(need.packages)
      .map((c) => `"${c}"`)
      .join(' or ')} (or run "armkit doctor --arch ${arch.rpm} --for test --fix").`,
  ]);
}

/** Upstream's `make check` programs, read from tests/Makefile (those that need OpenSSL libraries are left out). */
export function upstreamChecks(makefile: string): string[] {
  return upstreamChecksIn(readFileSync(makefile, 'utf8'));
}

export function upstreamChecksIn(makefileText: string): string[] {
  const text = `${makefileText.replace(/\r\n/g, '\n')}\n`;
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

/** The newest armkit-built OpenSSL for the arch: the packages a system installs, its engine and its config file. */
async function opensslUnderTest(options: TestOptions, arch: Arch, env: Env): Promise<OpensslUnderTest> {
  const dir = options.opensslFrom ? resolve(options.opensslFrom) : latestBuild(resolve(options.out ?? 'out'), 'openssl', arch);
  const manifest = readManifest(dir);
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

const sha = (...parts: string[]) => createHash('sha256').update(parts.join('\0')).digest('hex');

/**
 * Probes of the packages under test, in a scratch directory removed again (a dry run writes nothing): the devel
 * package's header (is it cryptodev-linux's?) and the source archive's tests/Makefile (which upstream tests).
 */
async function probePackages(devel: string, srpm: string, archive: string | undefined, env: Env): Promise<{ header?: string; testsMakefile?: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'armkit-probe-'));
  const forget = scratch(dir);
  try {
    await unpackRpm(env.runner, devel, join(dir, 'devel'));
    const headerFile = join(dir, 'devel', 'usr', 'include', 'crypto', 'cryptodev.h');
    const header = existsSync(headerFile) ? readFileSync(headerFile, 'utf8') : undefined;
    let testsMakefile: string | undefined;
    if (archive) {
      await unpackRpm(env.runner, srpm, join(dir, 'srpm'), { only: [archive] });
      const file = join(dir, 'srpm', archive);
      if (existsSync(file)) {
        const tar = await import('tar');
        await tar.t({
          file,
          onReadEntry: (entry) => {
            if (/^[^/]+\/tests\/Makefile$/.test(entry.path.replace(/^\.\//, ''))) {
              const chunks: Buffer[] = [];
              entry.on('data', (c: Buffer) => chunks.push(c));
              entry.on('end', () => (testsMakefile = Buffer.concat(chunks).toString('utf8')));
            }
          },
        });
      }
    }
    return { ...(header !== undefined ? { header } : {}), ...(testsMakefile !== undefined ? { testsMakefile } : {}) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    forget();
  }
}

/** Where the cache keeps a program built for the guest, and whether it is there. */
function built(cacheDir: string, name: string, key: string): { store: string; cached?: string } {
  const store = join(cacheDir, 'guest', 'built', `${name}-${key.slice(0, 24)}`);
  return existsSync(store) ? { store, cached: store } : { store };
}

export async function testCommand(recipeName: string, options: TestOptions, env: Env, signal?: AbortSignal): Promise<CheckResult[] | undefined> {
  const { recipe } = loadKmodRecipe(recipeName, options.recipes ?? []);
  // A recipe without cryptodev's header gets the check set of every kmod package (src/commands/test-kmod.ts).
  if (recipe.headers.length === 0) return (await import('./test-kmod.js')).testKmodCommand(recipe, options, env, signal);
  const arch = options.arch ? findArch(options.arch) : env.host.arch;
  if (!arch) throw usageError(`armkit does not know this host's architecture (${env.host.machine}); pass --arch.`);
  if (!arch.qemu) throw usageError(`No QEMU board armkit knows boots a ${arch.rpm} kernel (${arch.debian.flavour}); test those packages on the board.`);
  const timeoutSeconds = secondsOf(options.timeout ?? 120, '--timeout');

  if (options.fromRepo && options.from) throw usageError('--from and --from-repo: pass one.');
  // From a repository, as a board installs them: the packages of this arch and kernel, its signature checked.
  const from = options.fromRepo
    ? await packagesFromRepo(resolve(options.fromRepo), {
        arch,
        recipe: recipe.name,
        module: recipe.module.name,
        kernel: options.kernel,
        cacheDir: options.cacheDir ? resolve(options.cacheDir) : defaultCacheDir(),
        dryRun: Boolean(options.dryRun),
        host: env.host,
        runner: env.runner,
        armkitVersion: env.armkitVersion,
        warn: env.warn,
      })
    : options.from
      ? resolve(options.from)
      : latestBuild(resolve(options.out ?? 'out'), recipe.name, arch, options.kernel);
  const manifest = readManifest(from);
  if (manifest.arch !== arch.rpm) throw usageError(`${from} holds ${manifest.arch} packages, not ${arch.rpm}; pass --arch ${manifest.arch}.`);
  if (!manifest.kernel) throw usageError(`${from} is not a kernel-module build (its manifest names no kernel).`);
  const pick = (test: (a: Manifest['artifacts'][number]) => boolean, what: string) => {
    const a = manifest.artifacts.find(test);
    if (!a || !existsSync(join(from, a.file))) throw missing(`${from} has no ${what} package.`);
    return join(from, a.file);
  };
  const kmod = pick((a) => a.name.startsWith(`kmod-${recipe.module.name}-`), `kmod-${recipe.module.name}`);
  const devel = pick((a) => a.name.endsWith('-devel'), 'devel');
  const srpm = pick((a) => a.arch === 'src', 'source');
  const release = manifest.kernel.release;
  const develFile = devel.split('/').pop()!;

  const cacheDir = options.cacheDir ? resolve(options.cacheDir) : defaultCacheDir();
  const work = join(cacheDir, 'work', `${recipe.name}-test-${arch.rpm}-${createHash('sha256').update(from).digest('hex').slice(0, 10)}`);
  const archive = manifest.source.file;
  const probed = await probePackages(devel, srpm, archive, env);
  const toolPrefix = arch === env.host.arch ? '' : chooseCross(arch, env.host).prefix;
  const ccVersion = env.host.which(`${toolPrefix}gcc`) ? ((await env.runner.capture([`${toolPrefix}gcc`, '--version'])).stdout.split('\n')[0] ?? '') : '';

  const katHeader = katFromHeader(probed.header, develFile);
  let kat: Optional<BuiltProgram> =
    'skip' in katHeader ? katHeader : { run: built(cacheDir, 'kat', sha(renderTemplate('test/cryptodev-kat.c.ejs', {}), probed.header!, ccVersion, arch.rpm)) };
  if ('run' in kat) kat = staticLibcFor(arch, env.host) ?? kat;

  let upstream: Optional<BuiltProgram & { programs: string[] }> = { skip: 'the source RPM has no source archive' };
  if (archive && probed.testsMakefile !== undefined) {
    const programs = upstreamChecksIn(probed.testsMakefile);
    upstream =
      programs.length > 0
        ? { run: { programs, ...built(cacheDir, 'upstream', sha(manifest.source.sha256 ?? archive, programs.join(' '), ccVersion, arch.rpm)) } }
        : { skip: `the source (${archive}) has no tests/ with a "check" target: upstream's tests are cryptodev-linux's` };
  } else if (archive) {
    upstream = { skip: `the source (${archive}) has no tests/ with a "check" target: upstream's tests are cryptodev-linux's` };
  }
  if ('run' in upstream && 'skip' in kat) upstream = { skip: 'upstream tests need the real cryptodev-linux module and header' };

  const assets = await resolveGuestAssets(arch, release, options.kernelImage ? resolve(options.kernelImage) : undefined, {
    cacheDir,
    host: env.host,
    runner: env.runner,
    warn: env.warn,
    dryRun: Boolean(options.dryRun),
  });
  let openssl: Optional<OpensslUnderTest> | undefined;
  if (options.openssl || options.opensslFrom) {
    openssl =
      'skip' in kat ? { skip: 'the OpenSSL engine needs the real cryptodev-linux module and header' } : { run: await opensslUnderTest(options, arch, env) };
  }
  // Everything the initramfs is made of: the packages (by checksum), the guest assets, the programs built for it,
  // the templates of /init and the known-answer program, armkit itself.
  const packages = [kmod, ...(openssl && 'run' in openssl ? openssl.run.packages : [])];
  const initramfsKey = sha(
    ...(await Promise.all(packages.map((p) => sha256File(p)))),
    assets.kernelImage,
    assets.modulesRoot ?? '',
    assets.busybox,
    assets.source,
    'run' in kat ? kat.run.store : kat.skip,
    'run' in upstream ? upstream.run.store : upstream.skip,
    hashTree(join(TEMPLATES, 'test')),
    env.armkitVersion,
    JSON.stringify(openssl ?? null),
    JSON.stringify(options.speed ?? null),
  );
  const initramfsStore = join(cacheDir, 'guest', 'built', `initramfs-${initramfsKey.slice(0, 24)}.cpio.gz`);
  const initramfs = existsSync(initramfsStore) ? { store: initramfsStore, cached: initramfsStore } : { store: initramfsStore };
  const plan = planGuestTest({
    arch,
    release,
    module: recipe.module.name,
    packages: [kmod],
    inputs: { devel, srpm, ...(archive ? { archive } : {}) },
    assets,
    kat,
    upstream,
    initramfs,
    toolPrefix,
    ...(openssl ? { openssl } : {}),
    ...(options.speed ? { speed: options.speed } : {}),
    work,
    publishTo: join(from, 'logs'),
    timeoutSeconds,
  });
  return runGuestTest(plan, from, `armkit: ${plan.summary} (kernel from ${assets.source})`, options, env, signal);
}
