/**
 * Kernel-module recipes on the chroot engines: `build cryptodev --engine mock|copr` builds the kmod spec against the
 * chroot's own kernel-devel (the release asked for, or the chroot's newest), then checks and publishes what comes
 * back like a local build. Neither mock nor Copr exists here: recorders stand in for `mock` and `copr-cli` and
 * answer as they do, and the exact commands armkit sends are checked. The source RPM armkit hands them is real: the
 * mock stand-in rebuilds it against a header tree that says it is Fedora's, and the newest-kernel-devel lookup its
 * spec makes runs against an rpm database holding a kernel-devel package of our own making.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { armkit, coprHome, FIXTURE_MODULE, FIXTURE_VERSION, show, tempDir } from '../helpers/cli.js';

const fixtureArgs = ['--source', FIXTURE_MODULE, '--version', FIXTURE_VERSION];

/** A program that logs its arguments (one line per call) and runs `body`. */
function recorder(name: string, body: string[]): { bin: string; calls: string } {
  const bin = tempDir(`${name}-bin`);
  const calls = join(bin, 'calls.log');
  writeFileSync(join(bin, name), ['#!/bin/sh', `printf '%s\\n' "$*" >> ${calls}`, ...body, ''].join('\n'));
  chmodSync(join(bin, name), 0o755);
  return { bin, calls };
}

/** The release a Fedora chroot's kernel-devel would have. */
const FEDORA = '6.11.4-301.fc41.aarch64';

/**
 * A header tree that says it is Fedora's FEDORA: a copy of the Debian arm64 tree with its release rewritten. It
 * stands in for the chroot's /usr/src/kernels/FEDORA (a module built against it carries FEDORA's vermagic).
 */
function fedoraTree(debianTree: string): string {
  const tree = join(tempDir('fedora-kernel'), FEDORA);
  execFileSync('cp', ['-a', debianTree, tree]);
  for (const link of ['scripts', 'tools']) {
    const target = realpathSync(join(debianTree, link));
    rmSync(join(tree, link));
    symlinkSync(target, join(tree, link));
  }
  writeFileSync(join(tree, 'include/generated/utsrelease.h'), `#define UTS_RELEASE "${FEDORA}"\n`);
  return tree;
}

describe('kmod recipes on mock and Copr', () => {
  let tree: string;
  let rpms: string;
  /** Where the recorders keep the source RPMs armkit hands them (armkit's own copy goes with its work tree). */
  let srpms: string;

  beforeAll(async () => {
    const local = await armkit([
      'build',
      'cryptodev',
      '--arch',
      'aarch64',
      '--kernel',
      'debian:latest',
      ...fixtureArgs,
      '--out',
      tempDir('engines-debian'),
      '--json',
    ]);
    expect(local.exitCode, show(local)).toBe(0);
    tree = fedoraTree(JSON.parse(local.stdout).manifest.kernel.dir);
    // What a chroot would have built: the module for FEDORA, built here against the stand-in tree.
    const built = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', tree, ...fixtureArgs, '--out', tempDir('engines-local'), '--json']);
    expect(built.exitCode, show(built)).toBe(0);
    const doc = JSON.parse(built.stdout);
    expect(doc.kernel).toBe(FEDORA);
    rpms = doc.out;
    srpms = tempDir('srpms-received');
  });

  /**
   * A mock that does what `mock --rebuild` does in a chroot whose kernel-devel is the stand-in tree: rebuild the
   * source RPM armkit sent (cross-compiled here, as the chroot would build natively) and leave the results.
   */
  function rebuildingMock(): { bin: string; calls: string } {
    return recorder('mock', [
      'while [ $# -gt 1 ]; do case "$1" in --resultdir) dir="$2"; shift;; esac; shift; done; srpm="$1"',
      `cp "$srpm" ${srpms}/`,
      'mkdir -p "$dir" && rpmbuild --rebuild --nodeps --define "_topdir $dir/top" \\',
      `  --define 'kernel_dir ${tree}' --define 'kernel_arch arm64' --define 'cross_compile aarch64-linux-gnu-' --target aarch64 \\`,
      `  --define '__strip aarch64-linux-gnu-strip' --define '__objdump aarch64-linux-gnu-objdump' "$srpm" > "$dir/build.log" 2>&1 || exit 30`,
      'cp "$dir"/top/RPMS/*/*.rpm "$srpm" "$dir/"',
    ]);
  }

  it('mock --dry-run: the source RPM, then mock --rebuild for the exact kernel-devel, then the module check', async () => {
    const r = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--engine', 'mock', '--kernel', FEDORA, ...fixtureArgs, '--dry-run', '--force']);
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.stdout).toMatch(/^rpmbuild -bs --define '_topdir \S+' .*--define 'dist %\{nil\}' --nodeps \S+\/SPECS\/cryptodev-linux\.spec >> /m);
    expect(r.stdout).toMatch(
      /^mock -r fedora-rawhide-aarch64 --forcearch aarch64 --resultdir \S+\/results --define 'use_source_date_epoch_as_buildtime 1' .* --rebuild \S+\/SRPMS\/cryptodev-linux-0\.1-1\.local\.src\.rpm >> /m,
    );
    // The spec names the chroot's kernel-devel exactly and builds against its tree, not this host's.
    expect(r.stdout).toContain('%global kernel_release 6.11.4-301.fc41.aarch64');
    expect(r.stdout).toContain('BuildRequires:  kernel-devel-uname-r = %{kernel_release}');
    expect(r.stdout).toContain('%{!?kernel_dir: %global kernel_dir /usr/src/kernels/%{kernel_release}}');
    expect(r.stdout).not.toContain("--define 'kernel_dir");
    expect(r.stdout).not.toContain('aarch64-linux-gnu-');
    expect(r.stdout).toContain("grep -aq 'vermagic=6.11.4-301.fc41.aarch64 '");
    expect(r.stdout).toMatch(/^# needs: rpmbuild rpm mock rpm2cpio cpio$/m);
  });

  it('a kernel form of this host is refused for a chroot build (exit 2)', async () => {
    const r = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--engine', 'mock', '--kernel', 'debian:latest', ...fixtureArgs, '--dry-run']);
    expect(r.exitCode, show(r)).toBe(2);
    expect(r.stderr).toContain("a build in a chroot uses the chroot's kernel-devel: give its release");
  });

  it('mock: the chroot rebuilds the source RPM; armkit checks the module it returns and publishes it for that kernel', async () => {
    const mock = rebuildingMock();
    const out = tempDir('mock-out');
    // --force: an earlier run's build with the same inputs would otherwise come from the build cache.
    const r = await armkit(
      ['build', 'cryptodev', '--arch', 'aarch64', '--engine', 'mock', '--kernel', FEDORA, ...fixtureArgs, '--out', out, '--json', '--force'],
      {
        env: { PATH: `${mock.bin}:${process.env.PATH}` },
      },
    );
    expect(r.exitCode, show(r)).toBe(0);
    const sent = readFileSync(mock.calls, 'utf8').trim().split('\n');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatch(
      /^-r fedora-rawhide-aarch64 --forcearch aarch64 --resultdir \S+\/results .*--rebuild \S+\/SRPMS\/cryptodev-linux-0\.1-1\.local\.src\.rpm$/,
    );
    const doc = JSON.parse(r.stdout);
    expect(doc.out).toBe(join(out, 'cryptodev', FIXTURE_VERSION, 'aarch64', FEDORA));
    expect(doc.manifest).toMatchObject({ engine: 'mock', chroot: 'fedora-rawhide-aarch64', kernel: { release: FEDORA } });
    expect(
      readdirSync(doc.out)
        .filter((f: string) => f.endsWith('.rpm'))
        .sort(),
    ).toEqual(['cryptodev-linux-0.1-1.local.src.rpm', 'cryptodev-linux-devel-0.1-1.local.noarch.rpm', `kmod-cryptodev-${FEDORA}-0.1-1.local.aarch64.rpm`]);
    // The source RPM armkit handed mock asks for exactly that kernel-devel, and the chroot's own compilers.
    const requires = String((await execa('rpm', ['-qp', '--nosignature', '--requires', join(srpms, 'cryptodev-linux-0.1-1.local.src.rpm')])).stdout).split(
      '\n',
    );
    expect(requires).toEqual(expect.arrayContaining([`kernel-devel-uname-r = ${FEDORA}`, 'gcc', 'make', 'elfutils-libelf-devel']));
  });

  it('a module for another kernel than asked is refused (exit 1, nothing published): the same checks as a local build', async () => {
    const mock = recorder('mock', [
      'while [ $# -gt 0 ]; do case "$1" in --resultdir) dir="$2"; shift;; esac; shift; done',
      `mkdir -p "$dir" && cp ${rpms}/*.rpm "$dir/"`,
    ]);
    const out = tempDir('mock-wrong');
    const r = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--engine', 'mock', '--kernel', '6.12.0-1.fc42.aarch64', ...fixtureArgs, '--out', out], {
      env: { PATH: `${mock.bin}:${process.env.PATH}` },
    });
    expect(r.exitCode, show(r)).toBe(1);
    expect(r.stderr).toContain('Expected exactly one file matching');
    expect(readdirSync(out)).toEqual([]);
  });

  it("Copr against the chroot's newest kernel-devel: submit, watch, download; the release comes from the package", async () => {
    const copr = recorder('copr-cli', [
      'case "$1" in',
      `  build) cp "$6" ${srpms}/copr.src.rpm; echo "Uploading package $6"; echo "Created builds: 9100001" ;;`,
      '  watch-build) echo "Watching build(s): (this may be safely interrupted)"; echo "  9100001: succeeded" ;;',
      `  download-build) dest="$5"; mkdir -p "$dest/$3"; cp ${rpms}/*.rpm "$dest/$3/" ;;`,
      'esac',
    ]);
    const out = tempDir('copr-out');
    const r = await armkit(
      ['build', 'cryptodev', '--arch', 'aarch64', '--engine', 'copr', '--copr-project', 'someone/kmods', ...fixtureArgs, '--out', out, '--json'],
      {
        env: { PATH: `${copr.bin}:${process.env.PATH}`, HOME: coprHome() },
      },
    );
    expect(r.exitCode, show(r)).toBe(0);
    const sent = readFileSync(copr.calls, 'utf8').trim().split('\n');
    expect(sent).toHaveLength(3);
    expect(sent[0]).toMatch(/^build --nowait -r fedora-rawhide-aarch64 someone\/kmods \S+\/SRPMS\/cryptodev-linux-0\.1-1\.local\.src\.rpm$/);
    expect(sent[1]).toBe('watch-build 9100001');
    expect(sent[2]).toMatch(/^download-build -r fedora-rawhide-aarch64 --dest \S+\/results 9100001$/);
    const doc = JSON.parse(r.stdout);
    expect(doc.kernel).toBe(FEDORA);
    expect(doc.out).toBe(join(out, 'cryptodev', FIXTURE_VERSION, 'aarch64', FEDORA));
    expect(JSON.parse(readFileSync(join(doc.out, 'manifest.json'), 'utf8')).kernel.release).toBe(FEDORA);
    // The spec it sent reads the newest kernel-devel in the chroot.
    const requires = String((await execa('rpm', ['-qp', '--nosignature', '--requires', join(srpms, 'copr.src.rpm')])).stdout).split('\n');
    expect(requires).toContain('kernel-devel');
  });

  it("the spec's newest-kernel-devel lookup names the package after the chroot's kernel-devel", async () => {
    const r = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--engine', 'mock', ...fixtureArgs, '--dry-run', '--json']);
    expect(r.exitCode, show(r)).toBe(0);
    const spec = JSON.parse(r.stdout).plan.steps.find((s: { kind: string; path?: string }) => s.kind === 'write' && s.path?.endsWith('.spec'))
      .content as string;
    // An rpm database holding a kernel-devel of our own making stands in for the chroot's.
    const top = tempDir('kdevel');
    writeFileSync(
      join(top, 'kernel-devel.spec'),
      'Name: kernel-devel\nVersion: 6.11.4\nRelease: 301.fc41\nSummary: s\nLicense: GPL-2.0-only\nBuildArch: noarch\n%description\nd\n%files\n',
    );
    await execa('rpmbuild', ['-bb', '--define', `_topdir ${top}`, '--define', '_build_name_fmt kernel-devel.rpm', join(top, 'kernel-devel.spec')]);
    const db = join(top, 'db');
    await execa('rpm', ['--dbpath', db, '--initdb']);
    await execa('rpm', ['--dbpath', db, '-i', '--nodeps', '--justdb', '--ignorearch', join(top, 'RPMS', 'kernel-devel.rpm')]);
    const home = tempDir('kdevel-home');
    writeFileSync(join(home, '.rpmmacros'), `%_dbpath ${db}\n`);
    writeFileSync(join(top, 'cryptodev.spec'), spec);
    const q = await execa('rpmspec', ['-q', '--qf', '%{NAME}\\n', join(top, 'cryptodev.spec')], { env: { HOME: home } });
    expect(String(q.stdout).split('\n')).toContain('kmod-cryptodev-6.11.4-301.fc41.noarch');
  });

  describe('Copr failures', () => {
    it('a failed remote build: exit 1 with its log URL', async () => {
      const copr = recorder('copr-cli', [
        'case "$1" in',
        '  build) echo "Created builds: 9100002" ;;',
        '  watch-build) echo "  9100002: failed"; exit 1 ;;',
        'esac',
      ]);
      const out = tempDir('copr-fail');
      const r = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--engine', 'copr', '--copr-project', 'someone/kmods', ...fixtureArgs, '--out', out], {
        env: { PATH: `${copr.bin}:${process.env.PATH}`, HOME: coprHome() },
      });
      expect(r.exitCode, show(r)).toBe(1);
      expect(r.stderr).toContain('Copr build 9100002 failed: its logs are at https://copr.fedorainfracloud.org/coprs/someone/kmods/build/9100002/');
      expect(readdirSync(out)).toEqual([]);
    });

    it('a build that does not finish in time: exit 1, and where it goes on', async () => {
      const copr = recorder('copr-cli', ['case "$1" in', '  build) echo "Created builds: 9100003" ;;', '  watch-build) sleep 30 ;;', 'esac']);
      const out = tempDir('copr-slow');
      const started = Date.now();
      const r = await armkit(
        [
          'build',
          'cryptodev',
          '--arch',
          'aarch64',
          '--engine',
          'copr',
          '--copr-project',
          'someone/kmods',
          ...fixtureArgs,
          '--out',
          out,
          '--remote-timeout',
          '1',
        ],
        { env: { PATH: `${copr.bin}:${process.env.PATH}`, HOME: coprHome() } },
      );
      expect(r.exitCode, show(r)).toBe(1);
      expect(Date.now() - started).toBeLessThan(15000);
      expect(r.stderr).toContain(
        'Copr build 9100003 did not finish within 1 s; it goes on on Copr: https://copr.fedorainfracloud.org/coprs/someone/kmods/build/9100003/',
      );
    });

    it('no API token: exit 4 before anything is built, saying where the token comes from', async () => {
      const copr = recorder('copr-cli', ['exit 0']);
      const r = await armkit(
        ['build', 'cryptodev', '--arch', 'aarch64', '--engine', 'copr', '--copr-project', 'someone/kmods', ...fixtureArgs, '--out', tempDir('copr-notoken')],
        {
          env: { PATH: `${copr.bin}:${process.env.PATH}`, HOME: tempDir('empty-home') },
        },
      );
      expect(r.exitCode, show(r)).toBe(4);
      expect(r.stderr).toContain('copr-cli has no API token');
      expect(r.stderr).toContain('https://copr.fedorainfracloud.org/api/');
      expect(existsSync(copr.calls)).toBe(false);
    });
  });
});
