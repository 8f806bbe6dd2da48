/**
 * `armkit ci github|gitlab`: what the generated workflow does, as data. A matrix of architecture × recipe
 * (× kernel), each leg the steps a fresh Debian 12 machine needs (npm ci, armkit doctor --fix, armkit build,
 * armkit test), the same the README's quick start runs; then a job that builds the dnf repository from every
 * leg's packages, and on tags a release. The commands are checked words: the templates print them as they are.
 */
import { relative } from 'node:path';
import { ARCHES, findArch } from '../arch.js';
import { usageError } from '../errors.js';
import { shellQuote } from '../proc/quote.js';
import { findRecipeFile, recipeKind } from '../recipes/load.js';
import { checkBaseUrl } from '../repo/input.js';

export type CiSystem = 'github' | 'gitlab';
export const CI_SYSTEMS: readonly CiSystem[] = ['github', 'gitlab'];

export interface CiOptions {
  arch?: string;
  recipes?: string;
  kernel?: string;
  engine?: string;
  coprProject?: string;
  test?: boolean;
  baseUrl?: string;
}

/** The secrets a workflow reads, by name. */
export const SECRETS = {
  /** The text of ~/.config/copr (Copr's API page shows it): copr-cli's token. */
  copr: 'COPR_CONFIG',
  /** An armored secret key (gpg --armor --export-secret-keys): when set, the repository is signed with it. */
  signingKey: 'ARMKIT_SIGNING_KEY',
} as const;

/** The images the jobs run in: Debian 12 with Node.js (the README's machine); Fedora for copr-cli. */
export const IMAGES = { debian: 'node:20-bookworm', fedora: 'fedora:latest' } as const;

/** The directory of armkit's cache inside the job (ARMKIT_CACHE_DIR): downloads, header trees, builds. */
export const CACHE_DIR = { github: '/var/cache/armkit', gitlab: '.armkit-cache' } as const;

export interface CiCommands {
  install: string;
  doctor: string;
  build: string;
  test?: string;
  repoDoctor: string;
  repo: string;
  repoSigned: string;
}

export interface CiModel {
  system: CiSystem;
  /** The armkit ci command that writes this file. */
  regenerate: string;
  engine: 'local' | 'copr';
  arches: string[];
  recipes: string[];
  /** Empty: no kernel dimension (Copr builds against its chroot's newest kernel-devel). */
  kernels: string[];
  test: boolean;
  image: string;
  /** Files the cache key hashes, relative to the repository root: the recipes' and the lock file. */
  keyFiles: string[];
  coprProject?: string;
  baseUrl?: string;
  commands: CiCommands;
  secrets: typeof SECRETS;
  cacheDir: string;
}

type Word = string | { env: string };

/** A command line of literal words (quoted where the shell needs it) and variables ("$ARCH"). */
export function commandLine(words: Word[]): string {
  return words.map((w) => (typeof w === 'string' ? shellQuote(w) : `"$${w.env}"`)).join(' ');
}

const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** A value the workflow carries into YAML and shell: no spaces, quotes, `$` or backslashes. */
function plainValue(value: string, what: string): string {
  if (!/^[A-Za-z0-9._:/@+=,^~-]+$/.test(value)) throw usageError(`${what} "${value}": only letters, digits and ._:/@+=,^~- can go into a generated workflow.`);
  return value;
}

export function ciModel(system: CiSystem, options: CiOptions, cwd = process.cwd()): CiModel {
  const engine = options.engine ?? 'local';
  if (engine !== 'local' && engine !== 'copr') throw usageError(`--engine ${engine}: a generated workflow builds with local (rpmbuild on the runner) or copr.`);
  const archNames = list(options.arch ?? 'aarch64');
  const arches = [...new Set(archNames.includes('all') ? ARCHES.map((a) => a.rpm) : archNames.map((a) => findArch(a).rpm))];
  const recipes = [...new Set(list(options.recipes ?? 'cryptodev'))];
  if (recipes.length === 0) throw usageError('--recipes: name at least one recipe.');
  for (const recipe of recipes) {
    plainValue(recipe, '--recipes');
    const kind = recipeKind(recipe);
    if (kind !== 'kmod') {
      throw usageError(
        `--recipes ${recipe}: a ${kind} recipe rebuilds a distribution's source RPM ("armkit build ${recipe} --srpm FILE"), which a generated workflow does not have; build it in a job of your own.`,
      );
    }
  }
  const kernels = [...new Set(list(options.kernel))].map((k) => plainValue(k, '--kernel'));
  if (engine === 'local' && kernels.length === 0) kernels.push('debian:latest');
  const test = Boolean(options.test);
  let coprProject: string | undefined;
  if (engine === 'copr') {
    if (!options.coprProject) throw usageError('--engine copr needs --copr-project OWNER/PROJECT (a Copr project the token may build in).');
    if (!/^@?[A-Za-z0-9_.-]+\/[A-Za-z0-9_.+-]+$/.test(options.coprProject)) throw usageError(`--copr-project ${options.coprProject}: expected OWNER/PROJECT.`);
    coprProject = options.coprProject;
    const debian = kernels.filter((k) => k.startsWith('debian:'));
    if (debian.length)
      throw usageError(`--kernel ${debian.join(',')}: Copr builds against its chroot's kernel-devel; name kernel releases, or none for the newest.`);
    const noChroot = arches.filter((a) => !findArch(a).fedoraChroot);
    if (noChroot.length)
      throw usageError(`--arch ${noChroot.join(',')}: Fedora (and so Copr) no longer builds for ${noChroot.join(', ')}; build those with --engine local.`);
    if (test)
      throw usageError("--test with --engine copr: armkit test boots Debian's kernel for the packages, and Copr builds for Fedora's; test those on the board.");
  } else if (options.coprProject) throw usageError('--copr-project is for --engine copr.');
  if (test) {
    const noBoard = arches.filter((a) => !findArch(a).qemu);
    if (noBoard.length) throw usageError(`--test: armkit has no QEMU board for ${noBoard.join(', ')}; leave it out of --arch, or drop --test.`);
  }
  const baseUrl = options.baseUrl ? checkBaseUrl(options.baseUrl) : undefined;

  const keyFiles = [...recipes.map((r) => relative(cwd, findRecipeFile(r))).filter((f) => f && !f.startsWith('..') && !f.startsWith('/')), 'package-lock.json'];
  const npx: Word[] = ['npx', 'armkit'];
  const kernel: Word[] = kernels.length ? ['--kernel', { env: 'KERNEL' }] : [];
  const repo: Word[] = [...npx, 'repo', ...(baseUrl ? ['--base-url', { env: 'ARMKIT_REPO_URL' } as Word] : [])];
  const commands: CiCommands = {
    install: 'npm ci',
    doctor: commandLine([...npx, 'doctor', '--arch', { env: 'ARCH' }, '--for', test ? 'build,test' : 'build', '--fix']),
    build: commandLine([
      ...npx,
      'build',
      { env: 'RECIPE' },
      '--arch',
      { env: 'ARCH' },
      ...kernel,
      ...(engine === 'copr' ? ['--engine', 'copr', '--copr-project', { env: 'COPR_PROJECT' } as Word] : []),
    ]),
    ...(test ? { test: commandLine([...npx, 'test', { env: 'RECIPE' }, '--arch', { env: 'ARCH' }, ...kernel]) } : {}),
    repoDoctor: commandLine([...npx, 'doctor', '--for', 'repo', '--fix']),
    repo: commandLine(repo),
    repoSigned: commandLine([...repo, '--sign', { env: 'KEY_ID' }]),
  };
  const regenerate = [
    'armkit ci',
    system,
    '--arch',
    arches.join(','),
    '--recipes',
    recipes.join(','),
    ...(options.kernel ? ['--kernel', kernels.join(',')] : []),
    ...(engine === 'copr' ? ['--engine', 'copr', '--copr-project', coprProject!] : []),
    ...(test ? ['--test'] : []),
    ...(baseUrl ? ['--base-url', baseUrl] : []),
  ].join(' ');
  return {
    system,
    regenerate,
    engine,
    arches,
    recipes,
    kernels,
    test,
    image: engine === 'copr' ? IMAGES.fedora : IMAGES.debian,
    keyFiles,
    ...(coprProject ? { coprProject } : {}),
    ...(baseUrl ? { baseUrl } : {}),
    commands,
    secrets: SECRETS,
    cacheDir: CACHE_DIR[system],
  };
}
