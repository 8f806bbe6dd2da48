/**
 * armkit repo: the packages of every build under out/ as dnf repositories a board installs from, one per
 * architecture and one of source RPMs, with armkit.repo for /etc/yum.repos.d/. With --sign the packages and each
 * repomd.xml are signed and the public key goes beside them. Built in a staging directory and checked (metadata
 * against the files, every signature against the exported key) before one rename publishes it.
 */
import { createHash } from 'node:crypto';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findArch } from '../arch.js';
import { ArmkitError, usageError } from '../errors.js';
import { readModuleCertificate } from '../kernel/signing.js';
import { acquireLocks } from '../lock.js';
import { defaultCacheDir } from '../paths.js';
import type { Runner } from '../proc/runner.js';
import { checkRepository } from '../repo/check.js';
import type { Placement } from '../repo/collect.js';
import { buildTimes, checkBaseUrl, checkDestination, defaultBaseUrl, gatherPlacements, planReuse, signingKey } from '../repo/input.js';
import { KEY_FILE, REPO_FILE, SOURCE_REPO } from '../repo/layout.js';
import { type ModuleCheck, oldOf, planRepo, type Signing } from '../repo/plan.js';
import { scratch } from '../scratch.js';
import { executeOptions } from './env.js';
import type { Env } from './kmod-input.js';
import { info, printJson, printPlan } from './output.js';

export interface RepoOptions {
  from?: string;
  out?: string;
  update?: boolean;
  sign?: string;
  baseUrl?: string;
  moduleCert?: string;
  moduleKey?: string;
  cacheDir?: string;
  dryRun?: boolean;
  json?: boolean;
  verbose?: boolean;
  wait?: boolean;
}

/**
 * --module-cert: every kernel module of every kmod package in the repository (rpm lists them; a probe, so a dry run
 * shows them too), checked as a build checks its own: ELF machine, vermagic, and a signature this certificate's key made.
 */
async function modulesToCheck(placements: Placement[], certificate: { certPem: string; signer: string }, runner: Runner): Promise<ModuleCheck[]> {
  const checks: ModuleCheck[] = [];
  const kmods = placements.filter((p) => p.pkg.name.startsWith('kmod-') && p.pkg.build.kernel && p.repo !== SOURCE_REPO);
  for (const placement of kmods) {
    const listed = await runner.capture(['rpm', '-qlp', '--nosignature', placement.pkg.path]);
    const modules = listed.stdout.split('\n').filter((f) => /^\/(usr\/)?lib\/modules\/.+\.ko(\.(xz|gz|zst))?$/.test(f));
    for (const m of modules) {
      if (!m.endsWith('.ko'))
        throw new ArmkitError('verification', `${placement.pkg.file} holds ${m}, a compressed module: armkit checks signatures of uncompressed modules only.`);
      checks.push({ placement, arch: findArch(placement.pkg.arch), release: placement.pkg.build.kernel!, moduleInRpm: m.slice(1), certificate });
    }
  }
  if (checks.length === 0) throw usageError('--module-cert: the builds under out/ hold no kernel module to check.');
  return checks;
}

export async function repoCommand(options: RepoOptions, env: Env, signal?: AbortSignal): Promise<void> {
  const from = resolve(options.from ?? 'out');
  const dest = resolve(options.out ?? join(from, 'repo'));
  checkDestination(dest, from);
  const baseUrl = options.baseUrl ? checkBaseUrl(options.baseUrl) : defaultBaseUrl(dest);
  const gathered = gatherPlacements(from, dest);
  const { placements } = gathered;
  const warnings = [...gathered.warnings];
  if (!options.baseUrl) warnings.push(`armkit.repo points at ${baseUrl} (this machine); pass --base-url with the address boards fetch the repository from.`);
  if (options.moduleKey)
    throw new ArmkitError('usage', 'armkit repo does not sign modules: they are signed when they are built, inside the RPM.', {
      details: [
        'Build with: armkit build RECIPE --module-key KEY --module-cert CERT; then armkit repo --module-cert CERT checks every module in the repository.',
      ],
    });
  const moduleChecks = options.moduleCert
    ? await modulesToCheck(placements, readModuleCertificate(options.moduleCert, '--module-cert'), env.runner)
    : undefined;
  const sign: Signing | undefined = options.sign ? await signingKey(options.sign, env.host, env.runner) : undefined;
  const times = await buildTimes([...new Set(placements.map((p) => p.pkg.path))], env.runner);
  const revision = Math.max(...Object.values(times));
  const { reuse, updateRepos } = options.update
    ? planReuse(dest, placements, sign?.fingerprint ?? null, (m) => warnings.push(m))
    : { reuse: {}, updateRepos: {} };
  const cacheDir = options.cacheDir ? resolve(options.cacheDir) : defaultCacheDir();
  const logsDir = join(cacheDir, 'work', `repo-${createHash('sha256').update(dest).digest('hex').slice(0, 12)}`, 'logs');
  const { build, swap, staging, repos } = planRepo({
    dest,
    from,
    destExists: existsSync(dest),
    placements,
    buildTimes: times,
    revision,
    ...(sign ? { sign } : {}),
    baseUrl,
    reuse,
    updateRepos,
    logsDir,
    armkitVersion: env.armkitVersion,
    pid: process.pid,
    warnings,
    ...(moduleChecks ? { moduleChecks } : {}),
  });
  if (options.dryRun) {
    if (options.json) return printJson({ ok: true, dryRun: true, plans: [build, swap] });
    await printPlan(build, false);
    process.stdout.write('# armkit then checks the metadata against every package and, when signed, every signature with the exported key\n');
    await printPlan(swap, false);
    return;
  }

  const [{ execute }, { STEP_KINDS }] = await Promise.all([import('../run/execute.js'), import('../steps/index.js')]);
  // Its own locks are taken below (acquireLocks), so --no-wait is not the executor's.
  const common = executeOptions(STEP_KINDS, env, { verbose: options.verbose }, signal);
  const release = await acquireLocks([dest], { noWait: options.wait === false, signal, onWait: env.warn, what: build.summary });
  // An exit that does not unwind (a second interrupt) removes the staging tree too.
  const forget = scratch(staging);
  try {
    rmSync(logsDir, { recursive: true, force: true });
    info(`armkit: ${build.summary}`);
    try {
      await execute(build, common);
      const expected = Object.fromEntries(repos.map((r) => [r, placements.filter((p) => p.repo === r).map((p) => p.rel)]));
      await checkRepository(staging, expected, Boolean(sign), env.runner, join(logsDir, 'check.log'));
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      throw error;
    }
    const old = oldOf(dest, process.pid);
    try {
      await execute(swap, { ...common, quiet: true });
    } catch (error) {
      // The published repository stays as it was: put it back if it was moved aside.
      if (!existsSync(dest) && existsSync(old)) renameSync(old, dest);
      rmSync(staging, { recursive: true, force: true });
      throw error instanceof ArmkitError ? error : new ArmkitError('step-failed', `Publishing ${dest} failed: ${(error as Error).message}`);
    }
  } finally {
    forget();
    release();
  }

  const summary = repos.map((r) => ({ name: r, dir: join(dest, r), packages: placements.filter((p) => p.repo === r).map((p) => p.rel) }));
  if (options.json) {
    printJson({
      ok: true,
      out: dest,
      revision,
      baseUrl,
      repoFile: join(dest, REPO_FILE),
      signedBy: sign ? { fingerprint: sign.fingerprint, userId: sign.userId, key: join(dest, KEY_FILE) } : null,
      repositories: summary,
      reused: Object.keys(reuse),
      warnings,
    });
    return;
  }
  info(`armkit: published ${dest} (revision ${revision})`);
  for (const r of summary) info(`  ${r.name}/: ${r.packages.length} package(s)`);
  if (sign) info(`  signed by ${sign.userId} (${sign.fingerprint}); public key: ${join(dest, KEY_FILE)}`);
  info(`  on the board: copy ${join(dest, REPO_FILE)} to /etc/yum.repos.d/ (baseurl ${baseUrl}/$basearch/)`);
}
