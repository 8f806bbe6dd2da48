/**
 * armkit build openssl --srpm FILE: unpack the distribution's source RPM, patch its spec for the cryptodev engine,
 * and plan the new source RPM and the binary build with the chosen engine (local rpmbuild, mock or Copr).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { usageError } from '../errors.js';
import { planOpensslBuild, type BuildEngine } from '../plan/openssl.js';
import { chooseCross } from '../prereqs.js';
import { loadOpensslRecipe } from '../recipes/openssl.js';
import { defaultCacheDir } from '../paths.js';
import { unifiedDiff } from '../spec/diff.js';
import { patchOpensslSpec } from '../spec/openssl.js';
import { pickSpec } from '../spec/srpm.js';
import { defineArgs, missingParseMacros } from '../spec/rpm-macros.js';
import { tail } from '../run/runner.js';
import { ArmkitError } from '../errors.js';
import { chooseArchAndMode, type Env } from './kmod-input.js';
import { latestBuild } from '../artifacts/builds.js';
import { unpackRpm } from '../artifacts/rpm-payload.js';
import type { Arch } from '../arch.js';
import { info, printJson, printPlan } from './output.js';

export interface OpensslBuildOptions {
  srpm?: string;
  /** An armkit build of cryptodev whose devel RPM supplies crypto/cryptodev.h to a local build. */
  cryptodevFrom?: string;
  arch?: string;
  mode?: string;
  engine?: string;
  chroot?: string;
  coprProject?: string;
  releaseSuffix?: string;
  recipes?: string[];
  cacheDir?: string;
  out?: string;
  dryRun?: boolean;
  json?: boolean;
  verbose?: boolean;
}

const ENGINES: BuildEngine[] = ['local', 'mock', 'copr'];

/**
 * The engine includes <crypto/cryptodev.h>. mock and Copr install cryptodev-linux-devel from the BuildRequires;
 * a local build takes it from the host, or else from armkit's own cryptodev build for the arch (its devel RPM).
 */
async function cryptodevHeader(options: OpensslBuildOptions, arch: Arch, inputs: string, env: Env): Promise<string | undefined> {
  if (!options.cryptodevFrom && existsSync('/usr/include/crypto/cryptodev.h') && arch === env.host.arch) return undefined;
  let from = options.cryptodevFrom ? resolve(options.cryptodevFrom) : undefined;
  if (!from) {
    try {
      from = latestBuild(resolve(options.out ?? 'out'), 'cryptodev', arch);
    } catch {
      env.warn(`No crypto/cryptodev.h for the engine: build cryptodev first ("armkit build cryptodev --arch ${arch.rpm} ...") or pass --cryptodev-from; the engine will not compile without it.`);
      return undefined;
    }
  }
  const devel = existsSync(from) ? readdirSync(from).find((f) => /-devel-.*\.rpm$/.test(f)) : undefined;
  if (!devel) throw usageError(`${from} has no cryptodev devel RPM to take crypto/cryptodev.h from.`);
  const dir = join(inputs, 'cryptodev-devel');
  await unpackRpm(env.runner, join(from, devel), dir, { logFile: join(inputs, 'unpack.log') });
  const include = join(dir, 'usr', 'include');
  if (!existsSync(join(include, 'crypto', 'cryptodev.h'))) throw usageError(`${devel} holds no crypto/cryptodev.h.`);
  return include;
}

export async function buildOpensslCommand(options: OpensslBuildOptions, env: Env, signal?: AbortSignal): Promise<void> {
  if (!options.srpm) throw usageError('armkit build openssl needs --srpm FILE: the distribution\'s openssl source RPM.');
  const srpm = resolve(options.srpm);
  if (!existsSync(srpm)) throw usageError(`--srpm ${options.srpm}: no such file.`);
  const engine = (options.engine ?? 'local') as BuildEngine;
  if (!ENGINES.includes(engine)) throw usageError(`--engine ${options.engine}: expected ${ENGINES.join(', ')}.`);
  const { recipe } = loadOpensslRecipe('openssl', options.recipes ?? []);
  const { arch, mode } = chooseArchAndMode(options, env.host);
  let chroot: string | undefined;
  if (engine !== 'local') {
    chroot = options.chroot ?? arch.fedoraChroot ?? undefined;
    if (!chroot) throw usageError(`Fedora no longer builds for ${arch.rpm}: pass --chroot with a ${engine} chroot that does (e.g. fedora-36-armhfp).`);
  }
  if (engine === 'copr' && !options.coprProject) throw usageError('--engine copr needs --copr-project OWNER/PROJECT (a Copr project you may build in).');
  const crossPrefix = engine === 'local' && mode === 'cross' ? chooseCross(arch, env.host).prefix : undefined;

  const cacheDir = options.cacheDir ? resolve(options.cacheDir) : defaultCacheDir();
  const key = createHash('sha256').update(JSON.stringify([srpm, arch.rpm, mode, engine, chroot])).digest('hex').slice(0, 10);
  const work = join(cacheDir, 'work', `openssl-build-${arch.rpm}-${key}`);
  const inputs = join(work, 'inputs');
  const sourcesDir = join(inputs, 'sources');
  rmSync(inputs, { recursive: true, force: true });
  await unpackRpm(env.runner, srpm, sourcesDir, { logFile: join(inputs, 'unpack.log') });
  const specs = readdirSync(sourcesDir).filter((f) => f.endsWith('.spec'));
  if (specs.length === 0) throw new ArmkitError('verification', `${srpm} has no .spec file: is it a source RPM?`);
  const specName = pickSpec(specs);
  const original = readFileSync(join(sourcesDir, specName), 'utf8');
  for (const s of specs) rmSync(join(sourcesDir, s));

  const patched = patchOpensslSpec(original, { recipe, file: `${srpm}:${specName}`, releaseSuffix: options.releaseSuffix, now: env.now, armkitVersion: env.armkitVersion });
  const hostMacros = defineArgs(await missingParseMacros(env.runner));
  const probe = join(inputs, specName);
  writeFileSync(probe, patched.text);
  const nvr = await env.runner.capture(['rpmspec', '-q', '--srpm', ...hostMacros, '--define', 'dist %{nil}', '--qf', '%{name}-%{version}-%{release}\\n', probe]);
  const srpmNvr = nvr.stdout.trim().split('\n')[0];
  if (nvr.exitCode !== 0 || !srpmNvr) throw new ArmkitError('verification', `rpmspec cannot read the patched ${specName}.`, { details: tail(nvr.stderr, 10) });

  const includeDir = engine === 'local' && patched.engine ? await cryptodevHeader(options, arch, inputs, env) : undefined;
  const plan = planOpensslBuild({
    arch, mode, crossPrefix, engine, srpm, sourcesDir, specName, patched, srpmNvr, hostMacros, includeDir,
    diff: unifiedDiff(specName, original, patched.text),
    nodeps: env.host.family !== 'fedora',
    chroot, coprProject: options.coprProject, hostArch: env.host.arch, work,
    outDir: resolve(options.out ?? 'out'), armkitVersion: env.armkitVersion,
  });
  if (options.dryRun) return printPlan(plan, Boolean(options.json));
  info(`armkit: building ${plan.summary}`);
  for (const change of patched.changes) info(`  spec: ${change.what}`);
  const { execute } = await import('../run/execute.js');
  const { manifest } = await execute(plan, { runner: env.runner, host: env.host, verbose: Boolean(options.verbose), signal, warn: env.warn });
  const publish = plan.steps.find((s) => s.kind === 'publish');
  const dest = publish && publish.kind === 'publish' ? publish.dest : undefined;
  if (options.json) printJson({ ok: true, summary: plan.summary, out: dest, manifest, check: patched.check });
  else {
    info(`armkit: built ${plan.summary}`);
    for (const a of manifest?.artifacts ?? []) info(`  ${dest}/${a.file}`);
    info(`On the board: install the packages with kmod-cryptodev, then check the engine with: ${patched.check}`);
  }
}
