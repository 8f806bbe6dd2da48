/**
 * What `armkit repo` gathers before planning: the builds under out/, each package's build time (asked of rpm),
 * the signing key (asked of gpg), and for --update what the published repository already holds.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ArmkitError, missing, usageError } from '../errors.js';
import type { Host } from '../host.js';
import type { Runner } from '../proc/runner.js';
import { findBuilds, type Placement, packagesOf, placePackages, repositoriesOf } from './collect.js';
import { STATE_FILE } from './layout.js';
import { readPrimary, readRepomd } from './metadata.js';
import type { RepoState, Signing } from './plan.js';

const within = (path: string, dir: string) => {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep));
};

/** Refuses destinations armkit must not replace: the builds themselves, a directory that is not its repository. */
export function checkDestination(dest: string, from: string): void {
  if (within(from, dest))
    throw usageError(`--out ${dest} would hold the builds of ${from} it is made from: choose a directory of its own (default: ${join(from, 'repo')}).`);
  if (!existsSync(dest)) return;
  if (!statSync(dest).isDirectory()) throw usageError(`--out ${dest} is a file, not a directory.`);
  if (readdirSync(dest).length > 0 && !existsSync(join(dest, STATE_FILE))) {
    throw usageError(
      `${dest} is not a repository armkit made (it has no ${STATE_FILE}): armkit repo replaces its --out directory, so choose another or empty it.`,
    );
  }
}

/** A base URL boards fetch from: http(s), ftp or file, nothing a .repo file would misread. */
export function checkBaseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usageError(`--base-url ${url}: not a URL (e.g. https://example.org/armkit).`);
  }
  if (!['http:', 'https:', 'ftp:', 'file:'].includes(parsed.protocol)) throw usageError(`--base-url ${url}: dnf fetches over http, https, ftp or file URLs.`);
  if (/[\s$]/.test(url)) throw usageError(`--base-url ${url}: a URL with spaces or "$" (dnf would expand it) cannot go into armkit.repo.`);
  return url.replace(/\/+$/, '');
}

export function defaultBaseUrl(dest: string): string {
  return pathToFileURL(dest).href.replace(/\/+$/, '');
}

/** BUILDTIME of each package, asked of rpm a batch at a time. */
export async function buildTimes(paths: string[], runner: Runner): Promise<Record<string, number>> {
  const times: Record<string, number> = {};
  for (let i = 0; i < paths.length; i += 100) {
    const batch = paths.slice(i, i + 100);
    const result = await runner.capture(['rpm', '-qp', '--nosignature', '--qf', '%{BUILDTIME}\\n', ...batch]);
    const lines = result.stdout.split('\n').filter(Boolean);
    if (result.exitCode !== 0 || lines.length !== batch.length || lines.some((l) => !/^\d+$/.test(l))) {
      throw new ArmkitError('step-failed', `rpm could not read the build time of ${batch.join(', ')}: ${result.stderr.trim()}`);
    }
    batch.forEach((path, j) => {
      times[path] = Number(lines[j]);
    });
  }
  return times;
}

/** The secret key gpg signs with for KEYID: exactly one, valid and able to sign. */
export async function signingKey(keyId: string, host: Host, runner: Runner): Promise<Signing> {
  const gpg = host.which('gpg');
  if (!gpg) throw missing('gpg not found: install it with "apt-get install gnupg" or "dnf install gnupg2" (or run "armkit doctor --for repo --fix").');
  const listed = await runner.capture(['gpg', '--batch', '--with-colons', '--list-secret-keys', '--', keyId]);
  const records = listed.stdout.split('\n').map((l) => l.split(':'));
  const keys: Array<{ validity: string; caps: string; fingerprint?: string; userId?: string }> = [];
  for (const r of records) {
    if (r[0] === 'sec') keys.push({ validity: r[1] ?? '', caps: r[11] ?? '' });
    const last = keys[keys.length - 1];
    if (last && r[0] === 'fpr' && !last.fingerprint) last.fingerprint = r[9];
    if (last && r[0] === 'uid' && !last.userId) last.userId = r[9];
  }
  const home = process.env.GNUPGHOME ?? '~/.gnupg';
  if (keys.length === 0) {
    throw missing(`gpg has no secret key "${keyId}" (keyring ${home}).`, [
      'List the keys with "gpg --list-secret-keys"; import one with "gpg --import KEYFILE", or make one with "gpg --quick-generate-key NAME default sign".',
    ]);
  }
  if (keys.length > 1) {
    throw usageError(`--sign ${keyId} names ${keys.length} secret keys (${keys.map((k) => k.fingerprint).join(', ')}): pass the fingerprint of one.`);
  }
  const key = keys[0]!;
  if (['e', 'r', 'd', 'i'].includes(key.validity))
    throw missing(`The key ${key.fingerprint} is ${{ e: 'expired', r: 'revoked', d: 'disabled', i: 'invalid' }[key.validity]}.`);
  if (!key.caps.includes('S')) throw usageError(`The key ${key.fingerprint} cannot sign (its capabilities are "${key.caps}").`);
  if (!key.fingerprint) throw new ArmkitError('step-failed', `gpg listed the key "${keyId}" without its fingerprint.`);
  return { fingerprint: key.fingerprint, userId: key.userId ?? key.fingerprint, gpg };
}

export function readState(dest: string): RepoState | undefined {
  const file = join(dest, STATE_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as RepoState;
    return state.schema === 1 && Array.isArray(state.packages) ? state : undefined;
  } catch {
    return undefined;
  }
}

/**
 * --update: which packages the published repository already has as they would be made now (same source package
 * and same key: taken over, not copied and signed again), and which repositories createrepo_c may update (those
 * where no file it lists has changed: it knows a package by size and time, never by content).
 */
export function planReuse(
  dest: string,
  placements: Placement[],
  signedBy: string | null,
  warn: (message: string) => void,
): { reuse: Record<string, string>; updateRepos: Record<string, string[]> } {
  const reuse: Record<string, string> = {};
  const updateRepos: Record<string, string[]> = {};
  const state = readState(dest);
  if (!state) {
    warn(`--update: ${dest} holds no repository armkit can update; building it whole.`);
    return { reuse, updateRepos };
  }
  const before = new Map(state.packages.map((p) => [`${p.repo}/${p.rel}`, p.source]));
  for (const repo of repositoriesOf(placements)) {
    const dir = join(dest, repo);
    if (!existsSync(join(dir, 'repodata', 'repomd.xml'))) continue;
    let listed: Map<string, string>;
    let metadata: string[];
    try {
      listed = new Map(readPrimary(dir).map((p) => [p.href, p.checksum.type === 'sha256' ? p.checksum.value : '']));
      metadata = [
        'repodata/repomd.xml',
        ...readRepomd(dir)
          .entries.filter((e) => ['primary', 'filelists', 'other'].includes(e.type))
          .map((e) => e.href),
      ];
    } catch (error) {
      warn(`--update: the metadata of ${dir} is not usable (${(error as Error).message}); building ${repo}/ whole.`);
      continue;
    }
    let changed = false;
    for (const p of placements.filter((x) => x.repo === repo)) {
      const published = listed.get(p.rel);
      const same = before.get(`${repo}/${p.rel}`) === p.pkg.sha256 && state.signedBy === signedBy && published && existsSync(join(dir, p.rel));
      if (same) reuse[`${repo}/${p.rel}`] = published;
      else if (published !== undefined) changed = true;
    }
    if (!changed && metadata.every((f) => existsSync(join(dir, f)))) updateRepos[repo] = metadata;
  }
  return { reuse, updateRepos };
}

export interface Gathered {
  from: string;
  dest: string;
  placements: Placement[];
  warnings: string[];
}

export function gatherPlacements(from: string, dest: string): Gathered {
  const { builds, unreadable } = findBuilds(from, [dest]);
  if (builds.length === 0) {
    throw usageError(
      `No armkit builds under ${resolve(from)} (no <recipe>/<version>/<arch>/[<kernel>/]manifest.json): run "armkit build" first, or pass --from DIR.`,
    );
  }
  const { placements, warnings } = placePackages(packagesOf(builds));
  return { from, dest, placements, warnings: [...unreadable.map((u) => `left out ${u}`), ...warnings] };
}
