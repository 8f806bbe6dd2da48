/**
 * The plans of `armkit repo`, pure: the repository is built in a staging directory beside its destination (copies
 * of the packages with their build times, signatures, createrepo_c, the signed repomd.xml, the public key, the
 * .repo file, armkit's record), then a second plan puts it in place with two renames, as a build is published.
 */
import { basename, dirname, join } from 'node:path';
import type { Arch } from '../arch.js';
import type { Plan, Step } from '../step.js';
import { renderTemplate } from '../templates.js';
import { type Placement, repositoriesOf } from './collect.js';
import { KEY_FILE, REPO_FILE, SOURCE_REPO, STATE_FILE } from './layout.js';

/** One kernel module inside a kmod package, and the certificate whose key must have signed it. */
export interface ModuleCheck {
  placement: Placement;
  arch: Arch;
  release: string;
  /** Path of the module inside the package's payload. */
  moduleInRpm: string;
  certificate: { certPem: string; signer: string };
}

/** armkit's record of a repository it published (STATE_FILE). */
export interface RepoState {
  schema: 1;
  armkit: string;
  revision: number;
  /** Fingerprint of the key that signed the packages, or null. */
  signedBy: string | null;
  packages: Array<{ repo: string; rel: string; source: string }>;
}

export interface Signing {
  fingerprint: string;
  /** The key's user id, for humans. */
  userId: string;
  /** The gpg rpmsign is to run (Debian's rpm calls /usr/bin/gpg2, which Debian does not have). */
  gpg: string;
}

export interface RepoInput {
  dest: string;
  /** The output root the builds came from (for messages). */
  from: string;
  destExists: boolean;
  placements: Placement[];
  /** BUILDTIME of each package under out/ (by path): the copies get it as their time, the newest is the revision. */
  buildTimes: Record<string, number>;
  revision: number;
  sign?: Signing;
  /** Where boards will find the repository: armkit.repo's baseurl and gpgkey point under it. */
  baseUrl: string;
  /**
   * --update: packages taken over from the published repository (same source package, same key), with the
   * checksum its metadata gives them, and the repositories whose metadata createrepo_c may reuse.
   */
  reuse: Record<string, string>;
  updateRepos: Record<string, string[]>;
  logsDir: string;
  armkitVersion: string;
  pid: number;
  /** --module-cert: every kernel module in the kmod packages must carry a signature this certificate's key made. */
  moduleChecks?: ModuleCheck[];
  warnings: string[];
}

export const stagingOf = (dest: string, pid: number) => join(dirname(dest), `.${basename(dest)}.staging-${pid}`);
export const oldOf = (dest: string, pid: number) => join(dirname(dest), `.${basename(dest)}.old-${pid}`);

const key = (p: Pick<Placement, 'repo' | 'rel'>) => `${p.repo}/${p.rel}`;

export function createrepoArgv(dir: string, revision: number, update: boolean): string[] {
  // Gzip and no sqlite: dnf reads it on every Fedora and EL release, and the same packages give the same bytes
  // (createrepo_c 1.0 would default to zstd, which older dnf and armkit's own reader do not read).
  return [
    'createrepo_c',
    '--revision',
    String(revision),
    '--set-timestamp-to-revision',
    '--no-database',
    '--general-compress-type',
    'gz',
    '--error-exit-val',
    ...(update ? ['--update'] : []),
    dir,
  ];
}

export function rpmsignArgv(sign: Signing, files: string[]): string[] {
  return ['rpmsign', '--addsign', '--define', `_gpg_name ${sign.fingerprint}`, '--define', `__gpg ${sign.gpg}`, ...files];
}

export function repoFile(input: Pick<RepoInput, 'baseUrl' | 'sign'>, hasSource: boolean): string {
  return renderTemplate('repo/armkit.repo.ejs', { baseUrl: input.baseUrl.replace(/\/+$/, ''), signed: Boolean(input.sign), keyFile: KEY_FILE, hasSource });
}

export function planRepo(input: RepoInput): { build: Plan; swap: Plan; staging: string; repos: string[] } {
  const staging = stagingOf(input.dest, input.pid);
  const repos = repositoriesOf(input.placements);
  const at = (p: Placement) => join(staging, p.repo, p.rel);
  const steps: Step[] = [
    { kind: 'remove', title: 'Clear a staging directory left by an earlier run', path: staging },
    { kind: 'mkdir', title: `Stage the repository beside ${input.dest}`, path: staging },
  ];
  // Modules first: a repository whose modules a Secure Boot board would refuse is not staged at all.
  for (const [i, m] of (input.moduleChecks ?? []).entries()) {
    steps.push({
      kind: 'check-module',
      title: `Check that ${basename(m.moduleInRpm)} in ${m.placement.pkg.file} is signed by ${m.certificate.signer}`,
      path: m.placement.pkg.path,
      moduleInRpm: m.moduleInRpm,
      scratch: join(dirname(input.logsDir), `module-${i}`),
      arch: m.arch,
      release: m.release,
      signature: m.certificate,
    });
  }
  const fresh: string[] = [];
  for (const p of input.placements) {
    const reused = input.reuse[key(p)];
    if (reused) {
      steps.push(
        { kind: 'copy', title: `Take over ${p.repo}/${p.rel} from the published repository`, from: join(input.dest, p.repo, p.rel), to: at(p) },
        { kind: 'verify', title: `Check ${p.pkg.file} against the published metadata`, path: at(p), sha256: reused },
      );
    } else {
      steps.push(
        { kind: 'copy', title: `Copy ${p.pkg.file} into ${p.repo}/`, from: p.pkg.path, to: at(p) },
        { kind: 'verify', title: `Check ${p.pkg.file} against its build's manifest`, path: at(p), sha256: p.pkg.sha256 },
      );
      fresh.push(at(p));
    }
  }
  if (input.sign && fresh.length > 0) {
    steps.push({ kind: 'exec', title: `Sign ${fresh.length} package(s) with ${input.sign.userId}`, argv: rpmsignArgv(input.sign, fresh), log: 'rpmsign.log' });
  }
  // Each copy gets its package's build time: createrepo_c records it, and --update knows a package by size and time.
  const byTime = new Map<number, string[]>();
  for (const p of input.placements) {
    const time = input.buildTimes[p.pkg.path]!;
    byTime.set(time, [...(byTime.get(time) ?? []), at(p)]);
  }
  for (const [time, files] of [...byTime.entries()].sort(([a], [b]) => a - b)) {
    steps.push({
      kind: 'exec',
      title: `Give ${files.length} package(s) their build time (${time})`,
      argv: ['touch', '-d', `@${time}`, ...files],
      log: 'touch.log',
    });
  }
  for (const repo of repos) {
    const previous = input.updateRepos[repo];
    for (const file of previous ?? []) {
      steps.push({ kind: 'copy', title: `Reuse ${repo}/${file}`, from: join(input.dest, repo, file), to: join(staging, repo, file) });
    }
    steps.push({
      kind: 'exec',
      title: `createrepo_c ${repo}${previous ? ' (--update)' : ''}`,
      argv: createrepoArgv(join(staging, repo), input.revision, Boolean(previous)),
      log: 'createrepo_c.log',
    });
  }
  if (input.sign) {
    for (const repo of repos) {
      const repomd = join(staging, repo, 'repodata', 'repomd.xml');
      steps.push({
        kind: 'exec',
        title: `Sign ${repo}/repodata/repomd.xml`,
        argv: ['gpg', '--batch', '--yes', '--local-user', input.sign.fingerprint, '--armor', '--detach-sign', '--output', `${repomd}.asc`, repomd],
        log: 'gpg.log',
      });
    }
    steps.push({
      kind: 'exec',
      title: `Export the public key beside the repository (${KEY_FILE})`,
      argv: ['gpg', '--batch', '--armor', '--export', input.sign.fingerprint],
      stdoutFile: join(staging, KEY_FILE),
      log: 'gpg.log',
    });
  }
  steps.push({ kind: 'write', title: `Write ${REPO_FILE}`, path: join(staging, REPO_FILE), content: repoFile(input, repos.includes(SOURCE_REPO)) });
  const state: RepoState = {
    schema: 1,
    armkit: input.armkitVersion,
    revision: input.revision,
    signedBy: input.sign?.fingerprint ?? null,
    packages: input.placements.map((p) => ({ repo: p.repo, rel: p.rel, source: p.pkg.sha256 })),
  };
  steps.push({
    kind: 'write',
    title: `Record what the repository holds (${STATE_FILE})`,
    path: join(staging, STATE_FILE),
    content: `${JSON.stringify(state, null, 2)}\n`,
  });

  const old = oldOf(input.dest, input.pid);
  const swap: Step[] = [
    ...(input.destExists ? [{ kind: 'rename' as const, title: 'Move the published repository aside', from: input.dest, to: old }] : []),
    { kind: 'rename', title: `Publish the repository at ${input.dest}`, from: staging, to: input.dest },
    ...(input.destExists ? [{ kind: 'remove' as const, title: 'Remove the repository it replaces', path: old }] : []),
  ];
  const summary = `dnf repository of ${input.placements.length} package(s) from ${input.from} (${repos.join(', ')})${input.sign ? `, signed by ${input.sign.userId}` : ''}`;
  const requires = ['createrepo_c', 'touch', ...(input.sign ? ['rpmsign', 'gpg'] : []), ...(input.moduleChecks?.length ? ['rpm2cpio', 'cpio', 'openssl'] : [])];
  return {
    build: { summary, logsDir: input.logsDir, warnings: input.warnings, requires, steps },
    swap: { summary: `publish ${input.dest}`, logsDir: input.logsDir, warnings: [], requires: [], steps: swap },
    staging,
    repos,
  };
}
