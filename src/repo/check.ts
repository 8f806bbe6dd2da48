/**
 * What armkit checks of a repository before it publishes it: the metadata lists exactly the packages placed, each
 * with its file's checksum; when signed, every package's signature verifies against the exported public key
 * (rpmkeys, as rpm on the board does) and so does repomd.xml's (gpgv, as dnf's repo_gpgcheck does).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArmkitError } from '../errors.js';
import type { Runner } from '../proc/runner.js';
import { scratch } from '../scratch.js';
import { KEY_FILE } from './layout.js';
import { type RepoPackage, readPrimary, verifyPackage } from './metadata.js';

export interface CheckedRepo {
  repo: string;
  packages: RepoPackage[];
}

export async function checkRepository(
  root: string,
  expected: Record<string, string[]>,
  signed: boolean,
  runner: Runner,
  logFile?: string,
): Promise<CheckedRepo[]> {
  const checked: CheckedRepo[] = [];
  const files: string[] = [];
  for (const [repo, rels] of Object.entries(expected)) {
    const dir = join(root, repo);
    const packages = readPrimary(dir);
    const listed = packages.map((p) => p.href).sort();
    const wanted = [...rels].sort();
    if (listed.join('\n') !== wanted.join('\n')) {
      const missing = wanted.filter((r) => !listed.includes(r));
      const extra = listed.filter((r) => !wanted.includes(r));
      throw new ArmkitError('verification', `createrepo_c's metadata of ${repo}/ does not list the packages armkit placed there.`, {
        details: [...missing.map((r) => `not listed: ${r}`), ...extra.map((r) => `not placed: ${r}`)],
      });
    }
    for (const p of packages) files.push(await verifyPackage(dir, p));
    checked.push({ repo, packages });
  }
  if (!signed) return checked;
  const key = join(root, KEY_FILE);
  const home = mkdtempSync(join(tmpdir(), 'armkit-repo-check-'));
  const forget = scratch(home);
  try {
    await runner.run(['rpmkeys', '--dbpath', join(home, 'rpmdb'), '--import', key], { logFile });
    const result = await runner.capture(['rpmkeys', '--dbpath', join(home, 'rpmdb'), '--checksig', ...files]);
    const bad = files.filter((f) => !result.stdout.split('\n').some((line) => line === `${f}: digests signatures OK`));
    if (result.exitCode !== 0 || bad.length > 0) {
      throw new ArmkitError('verification', `rpm does not accept the signature of ${bad.length || 'some'} package(s) with the repository's key ${key}.`, {
        details: result.stdout.trim().split('\n').slice(-10),
      });
    }
    await runner.run(['gpg', '--homedir', join(home, 'gnupg'), '--batch', '--yes', '--dearmor', '--output', join(home, 'key.gpg'), key], { logFile });
    for (const { repo } of checked) {
      const repomd = join(root, repo, 'repodata', 'repomd.xml');
      const outcome = await runner.attempt(['gpgv', '--keyring', join(home, 'key.gpg'), `${repomd}.asc`, repomd], { logFile });
      if (outcome.exitCode !== 0) {
        throw new ArmkitError('verification', `gpgv does not accept the signature of ${repo}/repodata/repomd.xml with ${key}.`, { details: outcome.tail });
      }
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
    forget();
  }
  return checked;
}
