/**
 * armkit build <recipe>: plan, then print (--dry-run) or run it and publish into out/. A kmod recipe builds for
 * every architecture × kernel asked for, as one plan set run `--jobs` at a time; an unchanged build comes from
 * the build cache. A spec recipe (openssl) is handed to build-openssl.ts.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ARCHES, type Arch, findArch } from '../arch.js';
import { buildKey, findCachedBuild, maxCacheBytes, pruneBuilds } from '../artifacts/build-cache.js';
import { assertCoprConfig } from '../engines/copr.js';
import { ENGINES, engineNamed } from '../engines/index.js';
import { ArmkitError, usageError } from '../errors.js';
import { INDEX_MAX_AGE_MS } from '../kernel/debian.js';
import { type ModuleSigning, resolveModuleSigning } from '../kernel/signing.js';
import { type Manifest, parseManifest } from '../manifest.js';
import { defaultCacheDir } from '../paths.js';
import { planKmodBuild } from '../plan/kmod.js';
import { recipeKind } from '../recipes/load.js';
import { type PlanOutcome, resultOf } from '../run/execute.js';
import { currentStamp, stampFile, stampKey, writeStamp } from '../stamp.js';
import { KERNEL_RELEASE, type Plan } from '../step.js';
import type { OpensslBuildOptions } from './build-openssl.js';
import { executeOptions } from './env.js';
import { type Env, type KmodOptions, kmodBuildInputs, resolveKmodInput, stampPaths } from './kmod-input.js';
import { secondsOf } from './option-values.js';
import { info, printJson, printPlan, printSummary, printTimings, summaryRows } from './output.js';

export interface BuildOptions extends KmodOptions {
  out?: string;
  dryRun?: boolean;
  json?: boolean;
  verbose?: boolean;
  /** Run `armkit test` on the packages right after the build. */
  test?: boolean;
  timeout?: string;
  kernelImage?: string;
  engine?: string;
  jobs?: string;
  failFast?: boolean;
  force?: boolean;
  timings?: boolean;
  /** commander's --no-wait: false when given. */
  wait?: boolean;
  chroot?: string;
  coprProject?: string;
  /** How long to wait for a remote (Copr) build, in seconds. */
  remoteTimeout?: string;
  /** Sign the module with this key and certificate (the kernel's sign-file). */
  moduleKey?: string;
  moduleCert?: string;
}

/** Where builds run under fixed, key-named paths (see BuildPlanInput.buildRoot). */
const BUILD_ROOT = join(tmpdir(), 'armkit-rpmbuild');

/** Options that only one recipe kind takes: given to the other kind, they are a usage error, never ignored. */
const KMOD_ONLY = ['kernel', 'source', 'version', 'test', 'timeout', 'kernelImage', 'jobs', 'failFast', 'force', 'moduleKey', 'moduleCert'] as const;
const SPEC_ONLY = ['srpm', 'cryptodevFrom', 'releaseSuffix'] as const;
const flag = (name: string) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

function refuse(options: Record<string, unknown>, names: readonly string[], recipe: string, kind: string): void {
  const given = names.filter((n) => options[n] !== undefined && options[n] !== false);
  if (given.length > 0) throw usageError(`${given.map(flag).join(', ')}: not an option of ${kind} recipes such as ${recipe}.`);
}

/**
 * Options that only mean something beside another one: given without it they would be ignored, so they are a
 * usage error that says what they need.
 */
function refuseInapplicable(options: BuildOptions & { cryptodevFrom?: string }, kind: 'kmod' | 'spec'): void {
  const engine = options.engine ?? 'local';
  const needs: Array<[keyof BuildOptions | 'cryptodevFrom', boolean, string]> = [
    ['chroot', engine !== 'local', 'with --engine mock or copr (a local build uses no chroot)'],
    ['coprProject', engine === 'copr', 'with --engine copr'],
    ['remoteTimeout', engine === 'copr', 'with --engine copr (the only engine whose build runs elsewhere)'],
    ['cryptodevFrom', engine === 'local', "with --engine local (in a chroot, the spec's BuildRequires: cryptodev-linux-devel provides the header)"],
  ];
  if (kind === 'kmod') {
    needs.push(
      ['timeout', Boolean(options.test), 'with --test (it bounds the guest that proves the packages)'],
      ['kernelImage', Boolean(options.test), 'with --test (it is the kernel the guest boots)'],
    );
  }
  for (const [name, applies, when] of needs) {
    const value = (options as Record<string, unknown>)[name];
    if (value !== undefined && value !== false && !applies) throw usageError(`${flag(name)} applies only ${when}.`);
  }
}

/** `--arch a,b` or `all` (the host's own when none is given). */
export function archList(value: string | undefined, host: Env['host']): Arch[] {
  if (value?.split(',').every((a) => a.trim() === ''))
    throw usageError(`--arch "${value}": name an architecture (${ARCHES.map((a) => a.rpm).join(', ')}) or all, or leave --arch out for this host's.`);
  if (!value) {
    if (!host.arch) throw usageError(`armkit does not know this host's architecture (${host.machine}); pass --arch.`);
    return [host.arch];
  }
  if (value.trim() === 'all') return [...ARCHES];
  return [...new Set(value.split(',').map((a) => findArch(a)))];
}

function jobsOf(value: string | undefined, cpus: number): number {
  if (value === undefined) return cpus;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw usageError(`--jobs ${value}: expected a whole number of builds at once (1 or more).`);
  return n;
}

interface Planned {
  plan: Plan;
  arch: Arch;
  kernel: string;
  cacheDir: string;
  key: string;
  /** The files the build depends on, for its up-to-date stamp. */
  paths: string[];
  /** When armkit's Debian index for the kernel goes stale (a later run may resolve another kernel). */
  validUntil: number;
}

async function planBuilds(recipeName: string, options: BuildOptions, env: Env): Promise<Planned[]> {
  const engine = engineNamed(options.engine);
  const arches = archList(options.arch, env.host);
  if (options.kernel?.split(',').every((k) => k.trim() === ''))
    throw usageError(
      `--kernel "${options.kernel}": name a kernel (RELEASE, DIR, debian:latest[-FLAVOUR] or debian:ABI-FLAVOUR), or leave --kernel out (a native build then uses the running kernel's headers).`,
    );
  const kernels = options.kernel
    ? [
        ...new Set(
          options.kernel
            .split(',')
            .map((k) => k.trim())
            .filter(Boolean),
        ),
      ]
    : [undefined];
  if (arches.length > 1 && options.mode)
    throw usageError('--mode applies to one architecture; with several, each builds natively on its own kind of host and across otherwise.');
  const outDir = resolve(options.out ?? 'out');
  const nodeps = env.host.family !== 'fedora';
  const planned: Planned[] = [];
  for (const arch of arches) {
    for (const kernel of kernels) {
      const chroot = engine === 'local' ? undefined : (options.chroot ?? arch.fedoraChroot ?? undefined);
      const unsupported = ENGINES[engine].unsupported({ kind: 'kmod', arch, chroot, coprProject: options.coprProject }, env.host);
      if (unsupported) throw usageError(`--engine ${engine}: ${unsupported}.`);
      if (engine === 'copr' && !options.dryRun) assertCoprConfig();
      const input = await resolveKmodInput(recipeName, { ...options, arch: arch.rpm, kernel, engine, chroot }, env);
      // "The chroot's newest kernel-devel" is another kernel tomorrow: no build cache, no up-to-date stamp.
      const newest = input.kernel.source === 'chroot' && input.kernel.release === 'newest';
      if (engine !== 'local' && (options.moduleKey || options.moduleCert))
        throw usageError(`--module-key: modules are signed in local builds only; the key does not leave this machine (not for --engine ${engine}).`);
      const signing = resolveModuleSigning(options, input.kernel.dir, env.host);
      const inputs = withSigning(await kmodBuildInputs(input, engine, nodeps, env, Boolean(options.dryRun)), signing);
      // A dry run only reads the cache (a damaged entry is left for the real run to replace).
      const cached =
        options.force || newest || input.kernel.prepare.length > 0
          ? undefined
          : await findCachedBuild(input.cacheDir, inputs.key, { readOnly: Boolean(options.dryRun) });
      const kernelRealDir = existsSync(input.kernel.dir) ? realpathSync(input.kernel.dir) : input.kernel.dir;
      const plan = planKmodBuild({
        ...input,
        outDir,
        nodeps,
        engine,
        hostArch: env.host.arch,
        inputs,
        buildRoot: BUILD_ROOT,
        kernelRealDir,
        ...(chroot ? { chroot } : {}),
        ...(options.coprProject ? { coprProject: options.coprProject } : {}),
        ...(options.remoteTimeout ? { waitSeconds: secondsOf(options.remoteTimeout, '--remote-timeout') } : {}),
        ...(cached ? { cached: cached.dir, cachedManifest: cached.manifest } : {}),
        ...(signing ? { signing } : {}),
      });
      const index = join(input.cacheDir, 'apt', arch.debian.arch, 'updated');
      const validUntil = newest
        ? 0
        : input.kernel.source === 'debian' && existsSync(index)
          ? statSync(index).mtimeMs + INDEX_MAX_AGE_MS
          : Date.now() + 30 * 24 * 3600_000;
      planned.push({
        plan,
        arch,
        kernel: input.kernel.release,
        cacheDir: input.cacheDir,
        key: inputs.key,
        paths: [...stampPaths(input, env.host), ...(signing ? [signing.key, signing.cert] : [])],
        validUntil,
      });
    }
  }
  return planned;
}

/** A signed module is another build: the certificate (whose key must have made the signature) joins the key. */
function withSigning<T extends { key: string }>(inputs: T, signing: ModuleSigning | undefined): T {
  if (!signing) return inputs;
  const signFile = 'source' in signing.signFile ? createHash('sha256').update(readFileSync(signing.signFile.source)).digest('hex') : 'tree';
  const moduleSigning = { certSha256: signing.certSha256, signFile };
  return { ...inputs, key: buildKey({ unsigned: inputs.key, moduleSigning }), moduleSigning };
}

function destOf(plan: Plan): string | undefined {
  const publish = plan.steps.find((s) => s.kind === 'publish');
  return publish?.kind === 'publish' ? publish.dest : undefined;
}

function manifestOf(result: { steps: PlanOutcome['steps'] }, plan: Plan): Manifest | undefined {
  const value = resultOf(result, 'publish');
  return value === undefined ? undefined : parseManifest(value, `${destOf(plan)}/manifest.json`);
}

export async function buildCommand(recipeName: string, options: BuildOptions & OpensslBuildOptions, env: Env, signal?: AbortSignal): Promise<void> {
  if (recipeKind(recipeName, options.recipes ?? []) === 'spec') {
    refuse(options as Record<string, unknown>, KMOD_ONLY, recipeName, 'spec');
    refuseInapplicable(options, 'spec');
    const { buildOpensslCommand } = await import('./build-openssl.js');
    return buildOpensslCommand(options, env, signal);
  }
  refuse(options as Record<string, unknown>, SPEC_ONLY, recipeName, 'kernel-module');
  refuseInapplicable(options, 'kmod');
  const jobs = jobsOf(options.jobs, env.host.cpus);
  if (options.test && !options.dryRun && !options.force) {
    // An unchanged build goes straight to its test.
    const stamp = currentStamp(
      stampFile(options.cacheDir ? resolve(options.cacheDir) : defaultCacheDir(), stampKey(process.argv.slice(2), process.cwd(), process.env)),
    );
    const doc = stamp?.json as { out?: string; arch?: string; summary?: string; builds?: Array<{ out: string; arch: string; summary: string }> } | undefined;
    const builds = doc?.builds ?? (doc?.out ? [{ out: doc.out, arch: doc.arch!, summary: doc.summary! }] : []);
    if (stamp && builds.length > 0) {
      for (const line of stamp.messages) info(line);
      return testBuilds(recipeName, builds, options, env, signal, doc as Record<string, unknown>);
    }
  }
  const planned = await planBuilds(recipeName, options, env);
  if (options.dryRun) {
    if (planned.length === 1) return await printPlan(planned[0]!.plan, Boolean(options.json));
    if (options.json) return printJson({ ok: true, dryRun: true, plans: planned.map((p) => p.plan) });
    for (const p of planned) await printPlan(p.plan, false);
    return;
  }
  // The executor, its renderer and the step kinds load only when something runs (a dry run never needs them).
  const [{ execute, executeSet }, { STEP_KINDS }] = await Promise.all([import('../run/execute.js'), import('../steps/index.js')]);
  const common = executeOptions(STEP_KINDS, env, options, signal);

  let outcomes: PlanOutcome[];
  if (planned.length === 1) {
    const { plan } = planned[0]!;
    info(`armkit: building ${plan.summary}`);
    const started = process.hrtime.bigint();
    const result = await execute(plan, common);
    outcomes = [{ plan, steps: result.steps, seconds: Number(process.hrtime.bigint() - started) / 1e9 }];
    if (plan.cached) info(`armkit: every input is unchanged since the cached build ${planned[0]!.key.slice(0, 12)}: nothing was rebuilt (--force rebuilds)`);
  } else {
    info(`armkit: ${planned.length} builds, ${Math.min(jobs, planned.length)} at a time`);
    outcomes = await executeSet(
      planned.map((p) => p.plan),
      { ...common, runnerFor: env.runnerFor, jobs, failFast: Boolean(options.failFast) },
    );
  }
  if (options.timings) for (const o of outcomes) printTimings(o.plan.summary, o);
  // Keep the build cache within its limit once the builds that added to it are done.
  for (const cacheDir of new Set(planned.filter((p) => !p.plan.cached).map((p) => p.cacheDir))) pruneBuilds(cacheDir, maxCacheBytes());

  const builds = outcomes.map((o, i) => {
    const manifest = o.error ? undefined : manifestOf(o, o.plan);
    // A chroot's newest kernel is known once the build has run: its release names the directory.
    const release = manifest?.kernel?.release ?? planned[i]!.kernel;
    return {
      arch: planned[i]!.arch.rpm,
      kernel: release,
      summary: o.plan.summary,
      out: destOf(o.plan)?.replaceAll(KERNEL_RELEASE, release),
      cached: Boolean(o.plan.cached),
      seconds: o.seconds,
      manifest,
      error: o.error,
    };
  });
  const failed = outcomes.filter((o) => o.error);
  if (planned.length > 1) {
    printSummary(
      summaryRows(outcomes, (o) => {
        const b = builds[outcomes.indexOf(o)]!;
        return { arch: b.arch, kernel: b.kernel, artifacts: b.manifest ? b.manifest.artifacts.map((a) => a.file).join(' ') : (o.error?.message ?? '') };
      }),
    );
  }

  if (failed.length > 0) {
    // The exit code is the worst of the builds' own failures (a build stopped because another failed says nothing).
    const own = failed.filter((o) => !o.stopped);
    const worst = (own.length ? own : failed).map((o) => o.error!).sort((a, b) => b.exitCode - a.exitCode)[0]!;
    if (planned.length === 1) throw worst;
    throw new ArmkitError(
      worst.kind,
      `${failed.length} of ${planned.length} builds did not finish: ${failed.map((o) => `${o.plan.summary} (${o.stopped ? 'stopped' : o.error!.message})`).join('; ')}`,
      {
        details: worst.details,
        ...(worst.logFile ? { logFile: worst.logFile } : {}),
        payload: builds.map(({ error, ...b }) => ({ ...b, ok: !error, ...(error ? { error: error.message } : {}) })),
      },
    );
  }
  const docs = builds.map(({ error: _error, ...b }) => b);
  const doc = docs.length === 1 ? { ok: true, ...docs[0] } : { ok: true, builds: docs };
  writeBuildStamp(planned, builds, doc, env);
  if (options.test) {
    for (const b of builds) info(`armkit: ${b.cached ? 'published from the build cache' : 'built'} ${b.summary}`);
    return testBuilds(
      recipeName,
      builds.map((b) => ({ out: b.out!, arch: b.arch, summary: b.summary })),
      options,
      env,
      signal,
      doc,
    );
  }
  if (options.json) printJson(doc);
  else {
    for (const b of builds) {
      info(`armkit: ${b.cached ? 'published from the build cache' : 'built'} ${b.summary}`);
      for (const a of b.manifest?.artifacts ?? []) info(`  ${b.out}/${a.file}`);
    }
  }
}

/** build --test: each build proven in a guest, one after another (QEMU takes the cores). */
async function testBuilds(
  recipeName: string,
  builds: Array<{ out: string; arch: string; summary: string }>,
  options: BuildOptions,
  env: Env,
  signal: AbortSignal | undefined,
  doc: Record<string, unknown>,
): Promise<void> {
  const { testCommand } = await import('./test.js');
  const tests: unknown[] = [];
  for (const b of builds) {
    info(`armkit: testing ${b.summary.replace(/ \(cached: \w+\)$/, '')} in a guest`);
    tests.push(await testCommand(recipeName, { ...options, arch: b.arch, from: b.out, json: false, dryRun: false }, env, signal));
  }
  if (!options.json) return;
  const docs = (doc.builds as Array<Record<string, unknown>> | undefined) ?? [doc];
  const tested = docs.map((d, i) => ({ ...d, upToDate: undefined, test: tests[i] }));
  printJson(tested.length === 1 ? { ...tested[0], ok: true } : { ok: true, builds: tested });
}

/**
 * The up-to-date stamp of this command (src/stamp.ts): the files every build depends on, and what is now in out/.
 * Run again with none of them changed, the command answers from it before armkit loads.
 */
function writeBuildStamp(
  planned: Planned[],
  builds: Array<{ summary: string; out?: string; manifest?: Manifest }>,
  doc: Record<string, unknown>,
  env: Env,
): void {
  const published = builds.flatMap((b) =>
    b.out && b.manifest ? [join(b.out, 'manifest.json'), ...b.manifest.artifacts.map((a) => join(b.out!, a.file))] : [],
  );
  const cached = planned.map((p) => join(p.cacheDir, 'builds', p.key, 'manifest.json'));
  const messages = builds.flatMap((b) => [
    `armkit: up to date: ${b.summary.replace(/ \(cached: \w+\)$/, '')}: nothing it is built from changed since the last build (--force rebuilds)`,
    ...(b.manifest?.artifacts ?? []).map((a) => `  ${b.out}/${a.file}`),
  ]);
  try {
    writeStamp(stampFile(planned[0]!.cacheDir, stampKey(process.argv.slice(2), process.cwd(), process.env)), {
      messages,
      json: { ...doc, upToDate: true },
      validUntil: Math.min(...planned.map((p) => p.validUntil)),
      paths: [...planned.flatMap((p) => p.paths), ...published, ...cached],
    });
  } catch (error) {
    // A stamp only saves time: a build that cannot write one has still succeeded.
    env.warn(`could not write the up-to-date stamp: ${(error as Error).message}`);
  }
}
