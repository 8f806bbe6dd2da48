/**
 * `armkit repo` for real: packages built by armkit itself (the suite's module for aarch64, then armv7hl),
 * createrepo_c, rpmsign and gpg with a throwaway key made here, and every signature checked with the tools a
 * board uses: rpm -K against an rpm database that imported the key, gpg --verify of repomd.xml, and dnf
 * --installroot installing from the repository with gpgcheck and repo_gpgcheck on. repomd.xml and primary.xml
 * are read here too, each package checked against its listed checksum. Then the repository feeds armkit test
 * (--from-repo's selection) as a board's repository would.
 */
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findArch } from '../../src/arch.js';
import { probeHost } from '../../src/host.js';
import { readManifest } from '../../src/manifest.js';
import { createRunner } from '../../src/proc/runner.js';
import { rpmvercmp } from '../../src/repo/evr.js';
import { packagesFromRepo } from '../../src/repo/read.js';
import { armkit, FIXTURE_MODULE, FIXTURE_VERSION, show, TEST_CACHE, tempDir } from '../helpers/cli.js';

const host = probeHost();
const needed = ['createrepo_c', 'rpmsign', 'rpmkeys', 'gpg', 'gpgv', 'dnf', 'rpmbuild', 'aarch64-linux-gnu-gcc', 'arm-linux-gnueabihf-gcc'];
const absent = needed.filter((p) => !host.which(p));
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Every file under dir (relative path → sha256). */
function tree(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else files[relative(dir, p)] = sha256(p);
    }
  };
  walk(dir);
  return files;
}

/** repomd.xml → primary.xml.gz → the packages, read here with regular expressions (not armkit's reader). */
function primaryOf(repo: string): Array<{ name: string; arch: string; sha256: string; href: string }> {
  const repomd = readFileSync(join(repo, 'repodata', 'repomd.xml'), 'utf8');
  const data = /<data type="primary">([\s\S]*?)<\/data>/.exec(repomd)![1]!;
  const href = /<location href="([^"]+)"/.exec(data)![1]!;
  const listed = /<checksum type="sha256">([0-9a-f]{64})<\/checksum>/.exec(data)![1]!;
  expect(sha256(join(repo, href)), `${href} against repomd.xml`).toBe(listed);
  const xml = gunzipSync(readFileSync(join(repo, href))).toString('utf8');
  return [...xml.matchAll(/<package type="rpm">([\s\S]*?)<\/package>/g)].map((m) => ({
    name: /<name>([^<]+)<\/name>/.exec(m[1]!)![1]!,
    arch: /<arch>([^<]+)<\/arch>/.exec(m[1]!)![1]!,
    sha256: /<checksum type="sha256" pkgid="YES">([0-9a-f]{64})<\/checksum>/.exec(m[1]!)![1]!,
    href: /<location href="([^"]+)"/.exec(m[1]!)![1]!,
  }));
}

describe.skipIf(absent.length > 0)(
  `armkit repo${absent.length ? ` (skipped: ${absent.join(', ')} not installed; armkit doctor --for all,suite --fix)` : ''}`,
  () => {
    const out = tempDir('repo-out');
    const gnupg = tempDir('repo-gnupg');
    const env = { GNUPGHOME: gnupg };
    let fingerprint: string;
    let aarch64Release: string;
    let armv7Release: string;
    const build = async (arch: string) => {
      const r = await armkit([
        'build',
        'cryptodev',
        '--arch',
        arch,
        '--kernel',
        'debian:latest',
        '--source',
        FIXTURE_MODULE,
        '--version',
        FIXTURE_VERSION,
        '--out',
        out,
        '--json',
      ]);
      expect(r.exitCode, show(r)).toBe(0);
      return JSON.parse(r.stdout).manifest.kernel.release as string;
    };
    const repo = (args: string[]) => armkit(['repo', '--from', out, ...args], { env });

    beforeAll(async () => {
      chmodSync(gnupg, 0o700);
      // A throwaway signing key, made as a user would in batch mode.
      const params = join(gnupg, 'key.params');
      writeFileSync(
        params,
        [
          '%no-protection',
          'Key-Type: RSA',
          'Key-Length: 2048',
          'Key-Usage: sign',
          'Name-Real: armkit test key',
          'Name-Email: repo-test@armkit.invalid',
          'Expire-Date: 0',
          '%commit',
          '',
        ].join('\n'),
      );
      await execa('gpg', ['--batch', '--gen-key', params], { env });
      const listed = await execa('gpg', ['--batch', '--with-colons', '--list-secret-keys', 'repo-test@armkit.invalid'], { env });
      fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(listed.stdout)![1]!;
      aarch64Release = await build('aarch64');
    });

    afterAll(async () => {
      await execa('gpgconf', ['--kill', 'gpg-agent'], { env, reject: false });
    });

    it('unsigned: one repository per basearch and one of source RPMs, every package listed with its checksum, armkit.repo', async () => {
      const dest = join(tempDir('repo-unsigned'), 'repo');
      const r = await repo(['--out', dest, '--base-url', 'https://boards.example.org/armkit', '--json']);
      expect(r.exitCode, show(r)).toBe(0);
      const doc = JSON.parse(r.stdout);
      expect(doc.repositories.map((x: { name: string }) => x.name)).toEqual(['aarch64', 'src']);
      expect(doc.signedBy).toBeNull();
      const manifest = readManifest(join(out, 'cryptodev', FIXTURE_VERSION, 'aarch64', aarch64Release));
      const bySha = new Map(manifest.artifacts.map((a) => [a.sha256, a]));
      const binary = primaryOf(join(dest, 'aarch64'));
      const source = primaryOf(join(dest, 'src'));
      expect(binary.map((p) => `${p.name}.${p.arch}`).sort()).toEqual(['cryptodev-linux-devel.noarch', `kmod-cryptodev-${aarch64Release}.aarch64`]);
      expect(source.map((p) => p.href)).toEqual([`Packages/${aarch64Release}/cryptodev-linux-${FIXTURE_VERSION}-1.local.src.rpm`]);
      for (const [dir, packages] of [
        ['aarch64', binary],
        ['src', source],
      ] as const) {
        for (const p of packages) {
          expect(sha256(join(dest, dir, p.href)), p.href).toBe(p.sha256);
          // Unsigned, the packages are the build's own files.
          expect(bySha.get(p.sha256)?.name, p.href).toBe(p.name);
        }
      }
      const repoFile = readFileSync(join(dest, 'armkit.repo'), 'utf8');
      expect(repoFile).toContain('baseurl=https://boards.example.org/armkit/$basearch/\n');
      expect(repoFile).toContain('gpgcheck=0\n');
      expect(existsSync(join(dest, 'RPM-GPG-KEY-armkit'))).toBe(false);
      expect(readdirSync(join(dest, '..'))).toEqual(['repo']);
    });

    it('is reproducible: the same builds give the same repository, byte for byte', async () => {
      const a = join(tempDir('repo-a'), 'repo');
      const b = join(tempDir('repo-b'), 'repo');
      for (const dest of [a, b]) {
        const r = await repo(['--out', dest, '--base-url', 'https://boards.example.org/armkit']);
        expect(r.exitCode, show(r)).toBe(0);
      }
      expect(tree(a)).toEqual(tree(b));
      expect(Object.keys(tree(a))).toContain('aarch64/repodata/repomd.xml');
    });

    it('--dry-run prints the commands and makes nothing', async () => {
      const dest = join(tempDir('repo-dry'), 'repo');
      const r = await repo(['--out', dest, '--sign', fingerprint, '--dry-run']);
      expect(r.exitCode, show(r)).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^rpmsign --addsign --define '_gpg_name ${fingerprint}' --define '__gpg /usr/bin/gpg' `, 'm'));
      expect(r.stdout).toMatch(/^createrepo_c --revision \d+ --set-timestamp-to-revision --no-database --general-compress-type gz --error-exit-val /m);
      expect(r.stdout).toMatch(/^gpg --batch --yes --local-user \S+ --armor --detach-sign --output \S+\/aarch64\/repodata\/repomd\.xml\.asc /m);
      expect(existsSync(dest)).toBe(false);
    });

    describe('signed', () => {
      const site = tempDir('repo-signed');
      const dest = join(site, 'repo');
      const files = () => [...Object.keys(tree(dest))].filter((f) => f.endsWith('.rpm')).map((f) => join(dest, f));

      beforeAll(async () => {
        const r = await repo(['--out', dest, '--sign', 'repo-test@armkit.invalid']);
        expect(r.exitCode, show(r)).toBe(0);
      });

      it('rpm -K: not OK without the key, every package "digests signatures OK" once the key is imported', async () => {
        const bare = tempDir('rpmdb-bare');
        const without = await execa('rpm', ['--root', bare, '-K', ...files()], { reject: false });
        // rpm counts the packages that failed.
        expect(without.exitCode).toBe(files().length);
        for (const f of files()) expect(without.stdout).toContain(`${f}: digests SIGNATURES NOT OK`);
        const root = tempDir('rpmdb-key');
        await execa('rpmkeys', ['--root', root, '--import', join(dest, 'RPM-GPG-KEY-armkit')]);
        const checked = await execa('rpm', ['--root', root, '-K', ...files()], { reject: false });
        expect(checked.exitCode, checked.stdout).toBe(0);
        expect(checked.stdout.trim().split('\n')).toEqual(files().map((f) => `${f}: digests signatures OK`));
        const verbose = await execa('rpm', ['--root', root, '-Kv', files()[0]!]);
        expect(verbose.stdout).toMatch(new RegExp(`Header V4 RSA/SHA\\d+ Signature, key ID ${fingerprint.slice(-8).toLowerCase()}: OK`));
      });

      it("gpg --verify accepts each repomd.xml's signature with the key beside the repository, and refuses a changed one", async () => {
        const home = tempDir('gnupg-verify');
        chmodSync(home, 0o700);
        await execa('gpg', ['--batch', '--import', join(dest, 'RPM-GPG-KEY-armkit')], { env: { GNUPGHOME: home } });
        for (const r of ['aarch64', 'src']) {
          const repomd = join(dest, r, 'repodata', 'repomd.xml');
          const good = await execa('gpg', ['--batch', '--verify', `${repomd}.asc`, repomd], { env: { GNUPGHOME: home }, reject: false });
          expect(good.exitCode, good.stderr).toBe(0);
          expect(good.stderr).toContain('Good signature from "armkit test key <repo-test@armkit.invalid>"');
        }
        const changed = join(home, 'repomd.xml');
        writeFileSync(changed, `${readFileSync(join(dest, 'aarch64', 'repodata', 'repomd.xml'), 'utf8')}\n`);
        const bad = await execa('gpg', ['--batch', '--verify', join(dest, 'aarch64', 'repodata', 'repomd.xml.asc'), changed], {
          env: { GNUPGHOME: home },
          reject: false,
        });
        expect(bad.exitCode).not.toBe(0);
        expect(bad.stderr).toContain('BAD signature');
        await execa('gpgconf', ['--kill', 'gpg-agent'], { env: { GNUPGHOME: home }, reject: false });
      });

      it('armkit.repo: gpgcheck and repo_gpgcheck on, the key beside the repository', () => {
        const text = readFileSync(join(dest, 'armkit.repo'), 'utf8');
        expect(text).toContain(
          `[armkit]\nname=armkit packages ($basearch)\nbaseurl=file://${dest}/$basearch/\nenabled=1\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey=file://${dest}/RPM-GPG-KEY-armkit\n`,
        );
        expect(readFileSync(join(dest, 'RPM-GPG-KEY-armkit'), 'utf8')).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
      });

      /** dnf as on a board: the generated armkit.repo, and a stand-in for what the board already has installed. */
      async function dnfInstall(repoDir: string, arch: string, packages: string[]) {
        const work = tempDir('dnf');
        const reposd = join(work, 'yum.repos.d');
        mkdirSync(reposd);
        cpSync(join(repoDir, 'armkit.repo'), join(reposd, 'armkit.repo'));
        // The board's own system provides /bin/sh and kmod, which the kmod package's scriptlets require.
        const top = join(work, 'rpmbuild');
        mkdirSync(join(top, 'SPECS'), { recursive: true });
        writeFileSync(
          join(top, 'SPECS', 'board-base.spec'),
          'Name: board-base\nVersion: 1\nRelease: 1\nSummary: Stands for the board system\nLicense: MIT\nBuildArch: noarch\nProvides: kmod\nProvides: /bin/sh\n%description\nWhat a board already has installed.\n%files\n',
        );
        await execa('rpmbuild', ['-bb', '--define', `_topdir ${top}`, join(top, 'SPECS', 'board-base.spec')]);
        const board = join(work, 'board');
        mkdirSync(board);
        cpSync(join(top, 'RPMS', 'noarch'), board, { recursive: true });
        await execa('createrepo_c', ['--no-database', board]);
        writeFileSync(join(reposd, 'board.repo'), `[board]\nname=board\nbaseurl=file://${board}/\ngpgcheck=0\n`);
        writeFileSync(join(work, 'dnf.conf'), '[main]\ngpgcheck=1\n');
        const root = join(work, 'root');
        const result = await execa(
          'dnf',
          [
            '-y',
            `--installroot=${root}`,
            '--releasever=1',
            `--forcearch=${arch}`,
            `--config=${join(work, 'dnf.conf')}`,
            `--setopt=reposdir=${reposd}`,
            `--setopt=cachedir=${join(work, 'cache')}`,
            // The scriptlets run depmod on the board; this root has no shell to run them with.
            '--setopt=tsflags=noscripts',
            '--setopt=install_weak_deps=False',
            'install',
            ...packages,
          ],
          { reject: false, all: true },
        );
        // dnf checks signatures with a keyring per repository in its cache, and leaves a gpg-agent running for each.
        const cache = join(work, 'cache');
        const keyrings = existsSync(cache) ? readdirSync(cache, { recursive: true, encoding: 'utf8' }).filter((p) => p.endsWith('pubring')) : [];
        for (const ring of keyrings) await execa('gpgconf', ['--homedir', join(cache, ring), '--kill', 'gpg-agent'], { reject: false });
        return { result, root };
      }

      it('dnf --installroot installs the kmod and header packages from it, checking package and metadata signatures', async () => {
        const { result, root } = await dnfInstall(dest, 'aarch64', [`kmod-cryptodev-${aarch64Release}`, 'cryptodev-linux-devel']);
        expect(result.exitCode, result.all).toBe(0);
        expect(result.all).toContain('Importing GPG key');
        const installed = await execa('rpm', ['--root', root, '-qa', '--qf', '%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\\n']);
        const names = installed.stdout.split('\n');
        // dnf imported the repository's key into the board's rpm database before it installed anything.
        const keys = names.filter((n) => n.startsWith('gpg-pubkey-'));
        expect(keys).toHaveLength(1);
        expect(keys[0]).toMatch(new RegExp(`^gpg-pubkey-${fingerprint.slice(-8).toLowerCase()}-[0-9a-f]{8}\\.\\(none\\)$`));
        expect(names.filter((n) => !n.startsWith('gpg-pubkey-')).sort()).toEqual([
          'board-base-1-1.noarch',
          `cryptodev-linux-devel-${FIXTURE_VERSION}-1.local.noarch`,
          `kmod-cryptodev-${aarch64Release}-${FIXTURE_VERSION}-1.local.aarch64`,
        ]);
        expect(existsSync(join(root, 'usr', 'include', 'crypto', 'cryptodev.h'))).toBe(true);
      });

      it('dnf refuses the repository once its metadata no longer matches the signature (repo_gpgcheck)', async () => {
        const copy = join(tempDir('repo-tampered'), 'repo');
        cpSync(dest, copy, { recursive: true });
        writeFileSync(join(copy, 'armkit.repo'), readFileSync(join(dest, 'armkit.repo'), 'utf8').replaceAll(`file://${dest}`, `file://${copy}`));
        const repomd = join(copy, 'aarch64', 'repodata', 'repomd.xml');
        writeFileSync(repomd, readFileSync(repomd, 'utf8').replace('<revision>', '<revision>1'));
        const { result } = await dnfInstall(copy, 'aarch64', [`kmod-cryptodev-${aarch64Release}`]);
        expect(result.exitCode).not.toBe(0);
        expect(result.all).toMatch(/repomd\.xml GPG signature verification error|Bad GPG signature|signature/i);
      });

      it('--update: adds the armv7hl build (armhfp/), takes the signed aarch64 packages over unchanged, signs only the new ones', async () => {
        const before = tree(dest);
        armv7Release = await build('armv7hl');
        const r = await repo(['--out', dest, '--sign', fingerprint, '--update', '--json']);
        expect(r.exitCode, show(r)).toBe(0);
        const doc = JSON.parse(r.stdout);
        expect(doc.repositories.map((x: { name: string }) => x.name)).toEqual(['aarch64', 'armhfp', 'src']);
        expect(doc.reused.sort()).toEqual(
          [
            'aarch64/Packages/cryptodev-linux-devel-0.1-1.local.noarch.rpm',
            `aarch64/Packages/kmod-cryptodev-${aarch64Release}-0.1-1.local.aarch64.rpm`,
            `src/Packages/${aarch64Release}/cryptodev-linux-0.1-1.local.src.rpm`,
          ].sort(),
        );
        expect(r.stderr).toContain('createrepo_c aarch64 (--update)');
        expect(r.stderr).toContain('createrepo_c armhfp\n');
        const after = tree(dest);
        for (const f of doc.reused as string[]) expect(after[f], f).toBe(before[f]);
        const root = tempDir('rpmdb-update');
        await execa('rpmkeys', ['--root', root, '--import', join(dest, 'RPM-GPG-KEY-armkit')]);
        const checked = await execa('rpm', ['--root', root, '-K', ...files()]);
        expect(checked.stdout.trim().split('\n')).toHaveLength(6);
        expect(checked.stdout).not.toMatch(/NOT OK/);
        const armhfp = primaryOf(join(dest, 'armhfp'));
        expect(armhfp.map((p) => `${p.name}.${p.arch}`).sort()).toEqual(['cryptodev-linux-devel.noarch', `kmod-cryptodev-${armv7Release}.armv7hl`]);
        // An armv7hl board's dnf says $basearch = armhfp: the same armkit.repo finds its packages.
        const { result } = await dnfInstall(dest, 'armv7hl', [`kmod-cryptodev-${armv7Release}`]);
        expect(result.exitCode, result.all).toBe(0);
      });

      it('armkit test --from-repo: the kernel, header and source packages chosen from the repository are what armkit test proves in the guest', async () => {
        const runner = createRunner();
        const view = await packagesFromRepo(dest, {
          arch: findArch('aarch64'),
          recipe: 'cryptodev',
          module: 'cryptodev',
          cacheDir: TEST_CACHE,
          host,
          runner,
          armkitVersion: '0.1.0',
          warn: () => {},
        });
        const manifest = readManifest(view);
        expect(manifest.kernel!.release).toBe(aarch64Release);
        expect(manifest.inputs).toMatchObject({ repository: join(dest, 'aarch64'), repomdSigned: true });
        expect(manifest.source).toMatchObject({ kind: 'srpm', file: `cryptodev-linux-${FIXTURE_VERSION}.tar.gz` });
        expect(manifest.artifacts.map((a) => [a.name, a.arch])).toEqual([
          [`kmod-cryptodev-${aarch64Release}`, 'aarch64'],
          ['cryptodev-linux-devel', 'noarch'],
          ['cryptodev-linux', 'src'],
        ]);
        for (const a of manifest.artifacts) expect(sha256(join(view, a.file))).toBe(a.sha256);
        // The command line does the same selection, then boots the guest with those packages.
        const r = await armkit(['test', 'cryptodev', '--arch', 'aarch64', '--from-repo', dest, '--json']);
        expect(r.exitCode, show(r)).toBe(0);
        const checks = Object.fromEntries((JSON.parse(r.stdout).results as Array<{ name: string; status: string }>).map((c) => [c.name, c.status]));
        expect(checks).toMatchObject({ 'kernel-release': 'pass', 'modules-load': 'pass', 'dev-crypto': 'pass', unload: 'pass' });
        // A dry run makes its package view in a scratch directory, not in the cache, and removes it.
        rmSync(join(TEST_CACHE, 'from-repo'), { recursive: true, force: true });
        const views = () => readdirSync(tmpdir()).filter((f) => f.startsWith('armkit-from-repo-'));
        const before = views();
        const dry = await armkit(['test', 'cryptodev', '--arch', 'aarch64', '--from-repo', dest, '--dry-run']);
        expect(dry.exitCode, show(dry)).toBe(0);
        expect(dry.stdout).toContain('qemu-system-aarch64');
        expect(existsSync(join(TEST_CACHE, 'from-repo')), 'a dry run wrote into the cache').toBe(false);
        expect(views(), 'the scratch view outlived the dry run').toEqual(before);
        // Every recipe's test (the generic check set of a DKMS recipe too) selects through the same call.
        const warned: string[] = [];
        const dryView = await packagesFromRepo(dest, {
          arch: findArch('aarch64'),
          recipe: 'cryptodev',
          module: 'cryptodev',
          cacheDir: TEST_CACHE,
          dryRun: true,
          host,
          runner: createRunner(),
          armkitVersion: '0.1.0',
          warn: (m) => warned.push(m),
        });
        expect(dryView.startsWith(tmpdir())).toBe(true);
        expect(existsSync(join(TEST_CACHE, 'from-repo'))).toBe(false);
        expect(warned.join('\n')).toContain('removed when armkit exits');
        const both = await armkit(['test', 'cryptodev', '--arch', 'aarch64', '--from', view, '--from-repo', dest, '--dry-run']);
        expect(both.exitCode, show(both)).toBe(2);
        expect(both.stderr).toContain('--from and --from-repo: pass one.');
      });

      it('--from-repo refuses a package that is not the one the metadata lists, and metadata its signature does not cover', async () => {
        const options = {
          arch: findArch('aarch64'),
          recipe: 'cryptodev',
          module: 'cryptodev',
          cacheDir: TEST_CACHE,
          host,
          runner: createRunner(),
          armkitVersion: '0.1.0',
          warn: () => {},
        };
        const changedPackage = join(tempDir('repo-changed'), 'repo');
        cpSync(dest, changedPackage, { recursive: true });
        const kmod = join(changedPackage, 'aarch64', 'Packages', `kmod-cryptodev-${aarch64Release}-0.1-1.local.aarch64.rpm`);
        writeFileSync(kmod, Buffer.concat([readFileSync(kmod), Buffer.from('x')]));
        await expect(packagesFromRepo(changedPackage, options)).rejects.toMatchObject({ kind: 'verification' });
        const changedMetadata = join(tempDir('repo-changed-md'), 'repo');
        cpSync(dest, changedMetadata, { recursive: true });
        const repomd = join(changedMetadata, 'aarch64', 'repodata', 'repomd.xml');
        writeFileSync(repomd, `${readFileSync(repomd, 'utf8')}\n`);
        await expect(packagesFromRepo(changedMetadata, options)).rejects.toThrow(/does not verify/);
        await expect(packagesFromRepo(dest, { ...options, kernel: 'debian:latest' })).rejects.toThrow(/--kernel names a kernel release/);
      });
    });

    it('refuses what it must not replace or cannot sign with', async () => {
      const mine = tempDir('repo-mine');
      writeFileSync(join(mine, 'notes.txt'), 'mine');
      const foreign = await repo(['--out', mine]);
      expect(foreign.exitCode, show(foreign)).toBe(2);
      expect(foreign.stderr).toContain('is not a repository armkit made');
      expect(readdirSync(mine)).toEqual(['notes.txt']);
      const over = await repo(['--out', out]);
      expect(over.exitCode).toBe(2);
      expect(over.stderr).toContain('would hold the builds');
      const noKey = await repo(['--out', join(tempDir('repo-nokey'), 'repo'), '--sign', 'nobody@armkit.invalid']);
      expect(noKey.exitCode, show(noKey)).toBe(4);
      expect(noKey.stderr).toContain('gpg has no secret key "nobody@armkit.invalid"');
      const empty = await armkit(['repo', '--from', tempDir('repo-empty')]);
      expect(empty.exitCode).toBe(2);
      expect(empty.stderr).toContain('No armkit builds under');
    });

    it("armkit's version order is rpm's", async () => {
      const pairs = [
        ['1.14^20251105git08644db', '1.14'],
        ['0.1-1.local', '0.1-1'],
        ['2.0~beta', '2.0'],
        ['6.1.0-57', '6.1.0-9'],
        ['1.0a', '1.0.1'],
      ];
      for (const [a, b] of pairs) {
        const r = await execa('rpm', ['--eval', `%{lua: print(rpm.vercmp("${a}", "${b}"))}`]);
        expect(rpmvercmp(a!, b!), `${a} vs ${b}`).toBe(Number(r.stdout.trim()));
      }
    });
  },
);
