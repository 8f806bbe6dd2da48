/**
 * armkit test for kmod recipes without cryptodev's header (a DKMS import among them): the generic check set
 * (src/plan/guest-kmod.ts). Gathers what the plan needs: the build's kmod package and the modules in it (their
 * names and dependencies read from the modules themselves), the kernel image, busybox and the kernel's modules tree
 * (fetched into the cache first, so the modules' dependencies are known before the plan is made).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { findArch } from '../arch.js';
import { latestBuild } from '../artifacts/builds.js';
import { unpackRpm } from '../artifacts/rpm-payload.js';
import { ArmkitError, missing, usageError } from '../errors.js';
import { resolveGuestAssets } from '../guest/assets.js';
import { dependencyClosure, kernelModulesTree, loadOrder, modinfoOf, moduleKey, readModulesTree } from '../guest/modules.js';
import type { CheckResult } from '../guest/report.js';
import { readManifest } from '../manifest.js';
import { defaultCacheDir } from '../paths.js';
import { planKmodGuestTest } from '../plan/guest-kmod.js';
import type { KmodRecipe } from '../recipes/schema.js';
import { packagesFromRepo } from '../repo/read.js';
import { execute } from '../run/execute.js';
import { scratch } from '../scratch.js';
import { STEP_KINDS } from '../steps/index.js';
import { executeOptions } from './env.js';
import { runGuestTest } from './guest-run.js';
import type { Env } from './kmod-input.js';
import { secondsOf } from './option-values.js';
import type { TestOptions } from './test-options.js';

interface PackagedKo {
  name: string;
  /** Under lib/modules/<release>/. */
  path: string;
  depends: string[];
}

/** The modules a kmod package installs, with the dependencies each declares (its .modinfo). */
async function modulesInPackage(kmod: string, release: string, env: Env): Promise<PackagedKo[]> {
  const dir = mkdtempSync(join(tmpdir(), 'armkit-kmod-'));
  const forget = scratch(dir);
  try {
    await unpackRpm(env.runner, kmod, dir);
    const base = join(dir, 'lib', 'modules', release);
    const found: PackagedKo[] = [];
    const walk = (d: string) => {
      if (!existsSync(d)) return;
      for (const name of readdirSync(d).sort()) {
        const p = join(d, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.ko(\.(xz|gz|zst))?$/.test(name)) {
          const info = modinfoOf(readFileSync(p));
          found.push({ name: info.name ?? name.replace(/\.ko.*$/, ''), path: relative(base, p), depends: info.depends });
        }
      }
    };
    walk(base);
    return found;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    forget();
  }
}

export async function testKmodCommand(recipe: KmodRecipe, options: TestOptions, env: Env, signal?: AbortSignal): Promise<CheckResult[] | undefined> {
  const arch = options.arch ? findArch(options.arch) : env.host.arch;
  if (!arch) throw usageError(`armkit does not know this host's architecture (${env.host.machine}); pass --arch.`);
  if (!arch.qemu) throw usageError(`No QEMU board armkit knows boots a ${arch.rpm} kernel (${arch.debian.flavour}); test those packages on the board.`);
  if (options.openssl || options.opensslFrom)
    throw usageError(`--openssl checks OpenSSL's engine through cryptodev's /dev/crypto; ${recipe.name} is not cryptodev.`);
  const timeoutSeconds = secondsOf(options.timeout ?? 180, '--timeout');
  const cacheDir = options.cacheDir ? resolve(options.cacheDir) : defaultCacheDir();
  if (options.fromRepo && options.from) throw usageError('--from and --from-repo: pass one.');
  const from = options.fromRepo
    ? await packagesFromRepo(resolve(options.fromRepo), {
        arch,
        recipe: recipe.name,
        module: recipe.module.name,
        kernel: options.kernel,
        cacheDir,
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
  const kmodArtifact = manifest.artifacts.find((a) => a.name.startsWith(`kmod-${recipe.module.name}-`));
  if (!kmodArtifact || !existsSync(join(from, kmodArtifact.file))) throw missing(`${from} has no kmod-${recipe.module.name} package.`);
  const kmod = join(from, kmodArtifact.file);
  const release = manifest.kernel.release;

  const packaged = await modulesInPackage(kmod, release, env);
  if (packaged.length === 0) throw new ArmkitError('verification', `${kmod} installs no module under /lib/modules/${release}/.`);
  const ctx = { cacheDir, host: env.host, runner: env.runner, warn: env.warn, dryRun: Boolean(options.dryRun) };
  const assets = await resolveGuestAssets(arch, release, options.kernelImage ? resolve(options.kernelImage) : undefined, ctx);
  let tree = await kernelModulesTree(arch, release, ctx);
  // The dependencies are read from the kernel's modules.dep: fetch the tree now (it is a cache), so the plan can
  // name them; a dry run reads the cache only.
  if (tree.prepare.length > 0 && !options.dryRun) {
    await execute(
      {
        summary: `fetch Linux ${release}'s modules`,
        logsDir: join(cacheDir, 'guest', 'logs'),
        warnings: [],
        requires: ['apt-get', 'dpkg-deb', 'depmod'],
        locks: [tree.root],
        steps: tree.prepare,
      },
      { ...executeOptions(STEP_KINDS, env, { verbose: options.verbose }, signal), quiet: true },
    );
    tree = await kernelModulesTree(arch, release, ctx);
  }
  const known = readModulesTree(tree.root, release);
  const own = new Set(packaged.map((m) => moduleKey(m.name)));
  let paths: string[] = [];
  if (known) {
    const wanted = packaged.flatMap((m) => m.depends).filter((d) => !known.builtin.has(moduleKey(d)));
    const closure = dependencyClosure(known.dep, wanted, own);
    if (closure.unknown.length > 0)
      env.warn(`Linux ${release} has no module named ${closure.unknown.join(', ')}, which the package's modules depend on: they will not load.`);
    paths = closure.paths;
  } else if (options.dryRun) {
    env.warn(`The dry run does not know Linux ${release}'s modules yet (not in the cache): the dependencies the guest gets are named by the real run.`);
  } else {
    throw missing(`${tree.root} has no lib/modules/${release}/modules.dep: the kernel's modules could not be indexed.`);
  }
  const byName = new Map(packaged.map((m) => [m.name, m]));
  const ordered = loadOrder(packaged).map((n) => byName.get(n)!);
  const work = join(cacheDir, 'work', `${recipe.name}-test-${arch.rpm}-${createHash('sha256').update(from).digest('hex').slice(0, 10)}`);
  const plan = planKmodGuestTest({
    arch,
    release,
    kmod,
    modules: ordered.map((m) => ({ name: m.name, path: m.path })),
    assets,
    kernelModules: { root: tree.root, prepare: tree.prepare, paths },
    work,
    publishTo: join(from, 'logs'),
    timeoutSeconds,
  });
  return runGuestTest(
    plan,
    from,
    `armkit: ${plan.summary} (kernel from ${assets.source}; ${paths.length} of its modules as dependencies)`,
    options,
    env,
    signal,
  );
}
