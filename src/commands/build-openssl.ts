/**
 * armkit build openssl --srpm FILE: read the distribution's source RPM (its spec, probed in a scratch directory
 * that is removed again), patch the spec for the cryptodev engine, and plan the build with the chosen engine
 * (local rpmbuild, mock or Copr). Unpacking the source RPM into the work directory is a step of the plan, so a
 * dry run writes nothing.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Arch } from '../arch.js';
import { latestBuild } from '../artifacts/builds.js';
import { assertCoprConfig } from '../engines/copr.js';
import { ENGINES, engineNamed } from '../engines/index.js';
import { ArmkitError, usageError } from '../errors.js';
import { parseManifest } from '../manifest.js';
import { defaultCacheDir } from '../paths.js';
import { planOpensslBuild } from '../plan/openssl.js';
import { chooseCross } from '../prereqs.js';
import { tail } from '../proc/runner.js';
import { loadOpensslRecipe } from '../recipes/openssl.js';
import { unifiedDiff } from '../rpmspec/diff.js';
import { patchOpensslSpec } from '../rpmspec/openssl.js';
import { defineArgs, definePairs, missingParseMacros } from '../rpmspec/rpm-macros.js';
import { extractSpecFromSrpm } from '../rpmspec/srpm.js';
import { execute, resultOf } from '../run/execute.js';
import { scratch } from '../scratch.js';
import { STEP_KINDS } from '../steps/index.js';
import { executeOptions } from './env.js';
import { chooseArchAndMode, type Env } from './kmod-input.js';
import { secondsOf } from './option-values.js';
import { info, printJson, printPlan, printTimings } from './output.js';

export interface OpensslBuildOptions {
  srpm?: string;
  /** An armkit build of cryptodev whose devel RPM supplies crypto/cryptodev.h to a local build. */
  cryptodevFrom?: string;
  arch?: string;
  mode?: string;
  engine?: string;
  chroot?: string;
  coprProject?: string;
  remoteTimeout?: string;
  releaseSuffix?: string;
  recipes?: string[];
  cacheDir?: string;
  out?: string;
  dryRun?: boolean;
  json?: boolean;
  verbose?: boolean;
  timings?: boolean;
  wait?: boolean;
}

/**
 * The engine includes <crypto/cryptodev.h>. mock and Copr install cryptodev-linux-devel from the BuildRequires;
 * a local build takes it from the host, or else from armkit's own cryptodev build for the arch (its devel RPM,
 * which the plan unpacks). Asking rpm what the package holds is a probe: nothing is unpacked here.
 */
async function cryptodevDevel(options: OpensslBuildOptions, arch: Arch, env: Env): Promise<string | undefined> {
  if (!options.cryptodevFrom && existsSync('/usr/include/crypto/cryptodev.h') && arch === env.host.arch) return undefined;
  let from = options.cryptodevFrom ? resolve(options.cryptodevFrom) : undefined;
  if (!from) {
    try {
      from = latestBuild(resolve(options.out ?? 'out'), 'cryptodev', arch);
    } catch {
      env.warn(
        `No crypto/cryptodev.h for the engine: build cryptodev first ("armkit build cryptodev --arch ${arch.rpm} ...") or pass --cryptodev-from; the engine will not compile without it.`,
      );
      return undefined;
    }
  }
  const devel = existsSync(from) ? readdirSync(from).find((f) => /-devel-.*\.rpm$/.test(f)) : undefined;
  if (!devel) throw usageError(`${from} has no cryptodev devel RPM to take crypto/cryptodev.h from.`);
  const listed = await env.runner.capture(['rpm', '-qpl', '--nosignature', join(from, devel)]);
  if (!listed.stdout.split('\n').includes('/usr/include/crypto/cryptodev.h')) throw usageError(`${devel} holds no crypto/cryptodev.h.`);
  return join(from, devel);
}

export async function buildOpensslCommand(options: OpensslBuildOptions, env: Env, signal?: AbortSignal): Promise<void> {
  if (!options.srpm) throw usageError("armkit build openssl needs --srpm FILE: the distribution's openssl source RPM.");
  const srpm = resolve(options.srpm);
  if (!existsSync(srpm)) throw usageError(`--srpm ${options.srpm}: no such file.`);
  const engine = engineNamed(options.engine);
  const { recipe } = loadOpensslRecipe('openssl', options.recipes ?? []);
  const { arch, mode } = chooseArchAndMode(options, env.host);
  const chroot = engine === 'local' ? undefined : (options.chroot ?? arch.fedoraChroot ?? undefined);
  const unsupported = ENGINES[engine].unsupported({ kind: 'spec', arch, chroot, coprProject: options.coprProject }, env.host);
  if (unsupported) throw usageError(`--engine ${engine}: ${unsupported}.`);
  if (engine === 'copr' && !options.dryRun) assertCoprConfig();
  const crossPrefix = engine === 'local' && mode === 'cross' ? chooseCross(arch, env.host).prefix : undefined;

  const cacheDir = options.cacheDir ? resolve(options.cacheDir) : defaultCacheDir();
  const key = createHash('sha256')
    .update(JSON.stringify([srpm, arch.rpm, mode, engine, chroot]))
    .digest('hex')
    .slice(0, 10);
  const work = join(cacheDir, 'work', `openssl-build-${arch.rpm}-${key}`);

  // Probes: the spec inside the source RPM, and the patched spec's name as rpm reads it (scratch, removed).
  const original = await extractSpecFromSrpm(srpm, env.runner);
  const patched = patchOpensslSpec(original.text, {
    recipe,
    file: `${srpm}:${original.name}`,
    releaseSuffix: options.releaseSuffix,
    now: env.now,
    armkitVersion: env.armkitVersion,
  });
  const missing = await missingParseMacros(env.runner);
  const probeDir = mkdtempSync(join(tmpdir(), 'armkit-nvr-'));
  const forget = scratch(probeDir);
  let srpmNvr: string | undefined;
  try {
    const probe = join(probeDir, original.name);
    writeFileSync(probe, patched.text);
    const nvr = await env.runner.capture([
      'rpmspec',
      '-q',
      '--srpm',
      ...defineArgs(missing),
      '--define',
      'dist %{nil}',
      '--qf',
      '%{name}-%{version}-%{release}\\n',
      probe,
    ]);
    srpmNvr = nvr.stdout.trim().split('\n')[0];
    if (nvr.exitCode !== 0 || !srpmNvr)
      throw new ArmkitError('verification', `rpmspec cannot read the patched ${original.name}.`, { details: tail(nvr.stderr, 10) });
  } finally {
    rmSync(probeDir, { recursive: true, force: true });
    forget();
  }

  const devel = engine === 'local' && patched.engine ? await cryptodevDevel(options, arch, env) : undefined;
  const plan = planOpensslBuild({
    arch,
    mode,
    crossPrefix,
    engine,
    srpm,
    specsInSrpm: original.all,
    specName: original.name,
    patched,
    srpmNvr,
    hostMacros: definePairs(missing),
    ...(devel ? { cryptodevDevel: devel } : {}),
    diff: unifiedDiff(original.name, original.text, patched.text),
    nodeps: env.host.family !== 'fedora',
    chroot,
    coprProject: options.coprProject,
    ...(options.remoteTimeout ? { waitSeconds: secondsOf(options.remoteTimeout, '--remote-timeout') } : {}),
    hostArch: env.host.arch,
    work,
    outDir: resolve(options.out ?? 'out'),
    armkitVersion: env.armkitVersion,
  });
  if (options.dryRun) return await printPlan(plan, Boolean(options.json));
  info(`armkit: building ${plan.summary}`);
  for (const change of patched.changes) info(`  spec: ${change.what}`);
  const result = await execute(plan, executeOptions(STEP_KINDS, env, options, signal));
  if (options.timings) printTimings(plan.summary, result);
  const publish = plan.steps.find((s) => s.kind === 'publish');
  const dest = publish && publish.kind === 'publish' ? publish.dest : undefined;
  const manifest = parseManifest(resultOf(result, 'publish'), `${dest}/manifest.json`);
  if (options.json) printJson({ ok: true, summary: plan.summary, out: dest, manifest, check: patched.check });
  else {
    info(`armkit: built ${plan.summary}`);
    for (const a of manifest.artifacts) info(`  ${dest}/${a.file}`);
    info(`On the board: install the packages with kmod-cryptodev, then check the engine with: ${patched.check}`);
  }
}
