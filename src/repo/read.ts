/**
 * `armkit test --from-repo DIR`: the packages a board would install from a repository armkit (or createrepo_c)
 * made, found as dnf finds them. repomd.xml is checked against its signature when it has one (with the key beside
 * the repository), primary.xml against repomd.xml, each package against primary.xml. The kmod package of the
 * kernel, the header package and the source RPM it was built from are linked into a directory with a
 * manifest.json, so armkit test reads them as it reads a build under out/.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { Arch } from '../arch.js';
import { sha256File } from '../artifacts/hash.js';
import { unpackRpm } from '../artifacts/rpm-payload.js';
import { ArmkitError, missing, usageError } from '../errors.js';
import type { Host } from '../host.js';
import { MANIFEST_SCHEMA, type Manifest, writeManifest } from '../manifest.js';
import type { Runner } from '../proc/runner.js';
import { scratch } from '../scratch.js';
import { compareEvr } from './evr.js';
import { basearch, KEY_FILE, SOURCE_REPO } from './layout.js';
import { type RepoPackage, readPrimary, verifyPackage } from './metadata.js';

export interface FromRepoOptions {
  arch: Arch;
  /** The recipe's name and its module (`kmod-<module>-<kernel release>` is the package). */
  recipe: string;
  module: string;
  /** The kernel release to test; needed when the repository has packages for several. */
  kernel?: string;
  cacheDir: string;
  /** A dry run writes nothing into the cache: the view is made in a scratch directory removed when armkit exits. */
  dryRun?: boolean;
  host: Host;
  runner: Runner;
  armkitVersion: string;
  warn(message: string): void;
}

/** The repository of the architecture under DIR (a tree `armkit repo` made), or DIR itself when it is one. */
export function repositoryFor(dir: string, arch: Arch): { binary: string; source: string[] } {
  const root = resolve(dir);
  if (existsSync(join(root, 'repodata', 'repomd.xml'))) {
    const sibling = join(dirname(root), SOURCE_REPO);
    return { binary: root, source: [root, ...(existsSync(join(sibling, 'repodata', 'repomd.xml')) ? [sibling] : [])] };
  }
  const binary = join(root, basearch(arch.rpm));
  if (!existsSync(join(binary, 'repodata', 'repomd.xml'))) {
    const present = existsSync(root) ? readdirSync(root).filter((d) => existsSync(join(root, d, 'repodata', 'repomd.xml'))) : [];
    throw usageError(
      `${root} has no repository for ${arch.rpm} (${basearch(arch.rpm)}/repodata/repomd.xml)${present.length ? `; it has ${present.join(', ')}` : ''}: make one with "armkit repo", or pass --arch.`,
    );
  }
  const source = join(root, SOURCE_REPO);
  return { binary, source: [binary, ...(existsSync(join(source, 'repodata', 'repomd.xml')) ? [source] : [])] };
}

/** repo_gpgcheck as dnf does it: repomd.xml.asc must verify with the key beside the repository. */
async function checkRepomdSignature(repoDir: string, options: FromRepoOptions): Promise<boolean> {
  const repomd = join(repoDir, 'repodata', 'repomd.xml');
  if (!existsSync(`${repomd}.asc`)) return false;
  const key = [join(dirname(repoDir), KEY_FILE), join(repoDir, KEY_FILE)].find(existsSync);
  if (!key) {
    options.warn(`${repomd} is signed, but no ${KEY_FILE} lies beside the repository to check it with.`);
    return false;
  }
  const home = mkdtempSync(join(tmpdir(), 'armkit-repo-key-'));
  const forget = scratch(home);
  try {
    await options.runner.run(['gpg', '--homedir', join(home, 'gnupg'), '--batch', '--yes', '--dearmor', '--output', join(home, 'key.gpg'), key]);
    const outcome = await options.runner.attempt(['gpgv', '--keyring', join(home, 'key.gpg'), `${repomd}.asc`, repomd]);
    if (outcome.exitCode !== 0) {
      throw new ArmkitError('verification', `The signature of ${repomd} does not verify with ${key}: the metadata is not what was signed.`, {
        details: outcome.tail,
      });
    }
    return true;
  } finally {
    rmSync(home, { recursive: true, force: true });
    forget();
  }
}

const newestFirst = (a: RepoPackage, b: RepoPackage) => compareEvr(b, a);

/** The source archive a source RPM carries (Source0's tarball), and its sha256. */
async function sourceArchive(srpm: string, runner: Runner): Promise<{ file?: string; sha256?: string }> {
  const listed = await runner.capture(['rpm', '-qp', '--nosignature', '--qf', '[%{SOURCE}\\n]', srpm]);
  const file = listed.stdout.split('\n').find((f) => /\.(tar(\.[A-Za-z0-9]+)?|tgz|tbz2?|txz|zip)$/.test(f));
  if (!file) return {};
  const dir = mkdtempSync(join(tmpdir(), 'armkit-repo-src-'));
  const forget = scratch(dir);
  try {
    await unpackRpm(runner, srpm, dir, { only: [file] });
    return existsSync(join(dir, file)) ? { file, sha256: await sha256File(join(dir, file)) } : { file };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    forget();
  }
}

/**
 * Selects the packages for the arch (and kernel) from the repository and returns a directory that holds them
 * (as links) with a manifest.json listing them. What a repository does not record is said so in the manifest:
 * `inputs.repository` names where the packages came from, the kernel's version and header tree are unknown
 * (empty), and mode and engine say how this host relates to them (a repository records neither).
 */
export async function packagesFromRepo(dir: string, options: FromRepoOptions): Promise<string> {
  const { arch } = options;
  const { binary, source } = repositoryFor(dir, arch);
  const signed = await checkRepomdSignature(binary, options);
  const packages = readPrimary(binary);
  const prefix = `kmod-${options.module}-`;
  const kmods = packages.filter((p) => p.name.startsWith(prefix) && p.arch === arch.rpm);
  if (kmods.length === 0) throw missing(`${binary} has no ${prefix}<kernel> package for ${arch.rpm}.`);
  const releases = [...new Set(kmods.map((p) => p.name.slice(prefix.length)))].sort();
  let release = options.kernel;
  if (release === undefined) {
    if (releases.length > 1) throw usageError(`${binary} has ${prefix}<kernel> packages for ${releases.join(', ')}: pass --kernel RELEASE.`);
    release = releases[0]!;
  } else if (!releases.includes(release)) {
    throw usageError(
      `${binary} has no ${prefix}${release} package (it has ${releases.map((r) => prefix + r).join(', ')})${release.includes(':') ? ': with --from-repo, --kernel names a kernel release' : ''}.`,
    );
  }
  const kmod = kmods.filter((p) => p.name === prefix + release).sort(newestFirst)[0]!;
  const devel = packages.filter((p) => p.sourcerpm === kmod.sourcerpm && p.name.endsWith('-devel') && (p.arch === 'noarch' || p.arch === arch.rpm));
  if (devel.length === 0) throw missing(`${binary} has no -devel package built from ${kmod.sourcerpm} (with ${kmod.name}).`);
  let srpm: { repo: string; pkg: RepoPackage } | undefined;
  for (const repo of source) {
    const sources = readPrimary(repo).filter((p) => p.arch === 'src' && basename(p.href) === kmod.sourcerpm);
    // A kmod's source RPM names its kernel in the spec: armkit repo keeps each kernel's in a directory of its name.
    const pick = sources.find((p) => p.href.split('/').includes(release!)) ?? sources[0];
    if (pick) {
      srpm = { repo, pkg: pick };
      break;
    }
  }
  if (!srpm) throw missing(`No repository at ${source.join(' or ')} has ${kmod.sourcerpm}, the source RPM of ${kmod.name}.`);
  const chosen = [{ repo: binary, pkg: kmod }, { repo: binary, pkg: devel.sort(newestFirst)[0]! }, srpm];
  const files = await Promise.all(chosen.map((c) => verifyPackage(c.repo, c.pkg)));
  const archive = await sourceArchive(files[2]!, options.runner);

  const id = createHash('sha256').update(`${binary}\0${arch.rpm}\0${release}`).digest('hex').slice(0, 16);
  const viewName = `${options.recipe}-${arch.rpm}-${id}`;
  const view = options.dryRun ? join(mkdtempSync(join(tmpdir(), 'armkit-from-repo-')), viewName) : join(options.cacheDir, 'from-repo', viewName);
  // Needed until the command ends (the dry run prints paths in it), and gone however it ends.
  if (options.dryRun) {
    process.once('exit', () => rmSync(dirname(view), { recursive: true, force: true }));
    options.warn(
      `The dry run links the repository's packages from ${view}, which is removed when armkit exits: the printed commands that read them run after a run without --dry-run, whose view is kept in the cache.`,
    );
  }
  mkdirSync(view, { recursive: true });
  // The logs of earlier tests stay; the links and the manifest are made anew.
  for (const name of readdirSync(view)) if (name !== 'logs') rmSync(join(view, name), { recursive: true, force: true });
  const artifacts: Manifest['artifacts'] = [];
  for (const [i, c] of chosen.entries()) {
    const file = basename(files[i]!);
    symlinkSync(files[i]!, join(view, file));
    artifacts.push({
      file,
      name: c.pkg.name,
      version: c.pkg.version,
      release: c.pkg.release,
      arch: c.pkg.arch,
      size: c.pkg.size,
      sha256: c.pkg.checksum.type === 'sha256' ? c.pkg.checksum.value : await sha256File(files[i]!),
    });
  }
  const manifest: Manifest = {
    schema: MANIFEST_SCHEMA,
    recipe: options.recipe,
    kind: 'kmod',
    package: srpm.pkg.name,
    version: kmod.version,
    release: kmod.release,
    arch: arch.rpm,
    mode: options.host.arch === arch ? 'native' : 'cross',
    engine: 'local',
    kernel: { release, version: '', spec: release, dir: '' },
    source: { kind: 'srpm', file: archive.file, ...(archive.sha256 ? { sha256: archive.sha256 } : {}), verified: false },
    inputs: {
      key: createHash('sha256')
        .update(artifacts.map((a) => a.sha256).join('\0'))
        .digest('hex'),
      repository: binary,
      repomdSigned: signed,
    },
    armkit: options.armkitVersion,
    createdAt: new Date().toISOString(),
    artifacts,
  };
  writeManifest(view, manifest);
  return view;
}
