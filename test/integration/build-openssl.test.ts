/**
 * `armkit build openssl --srpm`: a real source RPM made here with rpmbuild from a Fedora-style spec, whose source
 * tree is a stand-in (its Configure records the arguments and compiler it was given, its Makefile installs
 * placeholder files), so the local engine can run to the end on this host. mock and Copr cannot run here: their
 * exact command sequences are checked, and Copr's client is replaced by a recorder that answers as Copr does.
 */

import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { armkit, coprHome, ROOT, show, snapshot, tempDir } from '../helpers/cli.js';
import { rpmField, rpmQuery, unpackRpm } from '../helpers/rpm.js';

const SPEC = join(ROOT, 'test/fixtures/specs/fedora-style-3.0.9.spec');

/** A source RPM of the fixture spec with a stand-in OpenSSL source tree. */
async function makeSrpm(): Promise<string> {
  const top = tempDir('srpm');
  const src = join(top, 'openssl-3.0.9');
  mkdirSync(src, { recursive: true });
  writeFileSync(
    join(src, 'Configure'),
    [
      '#!/bin/sh',
      "# Stand-in for OpenSSL's Configure: records what it was asked for.",
      'printf "%s\\n" "$@" > configure-args.txt',
      'echo "CC=${CC:-unset}" > configure-env.txt',
      '',
    ].join('\n'),
  );
  chmodSync(join(src, 'Configure'), 0o755);
  writeFileSync(
    join(src, 'Makefile'),
    [
      'all:',
      '\t@echo stand-in build',
      'install:',
      '\t# The packaged files carry what Configure was given: its arguments, and the compiler.',
      '\tinstall -D -m 0755 configure-args.txt $(DESTDIR)/usr/bin/openssl',
      '\tinstall -D -m 0644 /dev/null $(DESTDIR)/etc/pki/tls/openssl.cnf',
      '\tinstall -D -m 0755 configure-env.txt $(DESTDIR)/usr/lib64/libcrypto.so.3',
      '\tinstall -D -m 0755 /dev/null $(DESTDIR)/usr/lib64/libssl.so.3',
      '\tinstall -D -m 0755 /dev/null $(DESTDIR)/usr/lib64/engines-3/devcrypto.so',
      '',
    ].join('\n'),
  );
  writeFileSync(join(src, 'LICENSE.txt'), 'stand-in\n');
  mkdirSync(join(top, 'SOURCES'));
  mkdirSync(join(top, 'SPECS'));
  await execa('tar', ['-czf', join(top, 'SOURCES', 'openssl-3.0.9.tar.gz'), '-C', top, 'openssl-3.0.9']);
  writeFileSync(join(top, 'SOURCES', 'Makefile.certificate'), 'placeholder\n');
  cpSync(SPEC, join(top, 'SPECS', 'openssl.spec'));
  await execa('rpmbuild', ['-bs', '--define', `_topdir ${top}`, '--define', 'dist %{nil}', '--nodeps', join(top, 'SPECS', 'openssl.spec')]);
  return join(top, 'SRPMS', readdirSync(join(top, 'SRPMS'))[0]!);
}

let srpm: string;
beforeAll(async () => {
  srpm = await makeSrpm();
});

describe('build openssl --engine local', () => {
  it('native: patches the spec, writes a new source RPM and builds the binary RPMs with the engine flag once', async () => {
    const out = tempDir('ossl-out');
    const r = await armkit(['build', 'openssl', '--srpm', srpm, '--arch', 'x86_64', '--out', out, '--json']);
    expect(r.exitCode, show(r)).toBe(0);
    const doc = JSON.parse(r.stdout);
    const dest = join(out, 'openssl', '3.0.9', 'x86_64');
    expect(doc.out).toBe(dest);
    expect(doc.check).toBe('openssl engine -t -c devcrypto');
    const files = readdirSync(dest).sort();
    expect(files).toEqual(
      expect.arrayContaining([
        'openssl-3.0.9-2.cryptodev1.src.rpm',
        'openssl-3.0.9-2.cryptodev1.x86_64.rpm',
        'openssl-libs-3.0.9-2.cryptodev1.x86_64.rpm',
        'manifest.json',
        'logs',
      ]),
    );

    // Configure got enable-devcryptoeng exactly once, and no longer no-engine.
    const payload = tempDir('ossl-payload');
    await unpackRpm(join(dest, 'openssl-3.0.9-2.cryptodev1.x86_64.rpm'), payload);
    const args = readFileSync(join(payload, 'usr/bin/openssl'), 'utf8').split('\n');
    expect(args.filter((a) => a === 'enable-devcryptoeng')).toHaveLength(1);
    expect(args).not.toContain('no-engine');
    expect(args).toContain('zlib');

    // The library package recommends the module and ships the engine configuration.
    const libs = join(dest, 'openssl-libs-3.0.9-2.cryptodev1.x86_64.rpm');
    expect(await rpmField(libs, 'EPOCH')).toBe('1');
    expect(await rpmQuery(libs, '--recommends')).toContain('cryptodev-kmod');
    const config = (await rpmQuery(libs, '--configfiles')).split('\n').filter((f) => f.includes('devcrypto'));
    expect(config).toHaveLength(1);
    expect((await rpmQuery(libs, '-l')).split('\n')).toEqual(expect.arrayContaining(['/usr/lib64/libcrypto.so.3', '/usr/lib64/engines-3']));

    // The new source RPM carries the patched spec and the engine configuration source.
    const srcFiles = (await rpmQuery(join(dest, 'openssl-3.0.9-2.cryptodev1.src.rpm'), '-l')).split('\n');
    expect(srcFiles).toContain('openssl.spec');
    const srcPayload = tempDir('ossl-src');
    await unpackRpm(join(dest, 'openssl-3.0.9-2.cryptodev1.src.rpm'), srcPayload);
    const spec = readFileSync(join(srcPayload, 'openssl.spec'), 'utf8');
    expect(spec).toMatch(/^Release: 2%\{\?dist\}\.cryptodev1$/m);
    expect(spec).toMatch(/^BuildRequires:\s+cryptodev-linux-devel$/m);
    // Once in the Configure invocation; the changelog entry may name it too.
    expect(spec.split('%changelog')[0]!.match(/enable-devcryptoeng/g)).toHaveLength(1);

    const manifest = JSON.parse(readFileSync(join(dest, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      recipe: 'openssl',
      version: '3.0.9',
      arch: 'x86_64',
      engine: 'local',
      opensslEngine: { id: 'devcrypto', flags: ['enable-devcryptoeng'] },
    });
    expect(readFileSync(join(dest, 'logs', 'openssl.spec.diff'), 'utf8')).toMatch(/^\+Release: 2%\{\?dist\}\.cryptodev1$/m);
  });

  it('cross: Configure runs with the cross compiler and the packages are for the target', async () => {
    const out = tempDir('ossl-cross');
    const r = await armkit(['build', 'openssl', '--srpm', srpm, '--arch', 'aarch64', '--out', out]);
    expect(r.exitCode, show(r)).toBe(0);
    const dest = join(out, 'openssl', '3.0.9', 'aarch64');
    const rpm = join(dest, 'openssl-3.0.9-2.cryptodev1.aarch64.rpm');
    const libs = join(dest, 'openssl-libs-3.0.9-2.cryptodev1.aarch64.rpm');
    expect(await rpmField(rpm, 'ARCH')).toBe('aarch64');
    expect(await rpmField(libs, 'ARCH')).toBe('aarch64');
    const payload = tempDir('ossl-cross-payload');
    await unpackRpm(rpm, payload);
    await unpackRpm(libs, payload);
    expect(readFileSync(join(payload, 'usr/lib64/libcrypto.so.3'), 'utf8').trim()).toBe('CC=aarch64-linux-gnu-gcc');
    // %ifarch aarch64 in the spec chose the target: rpmbuild --target set the arch macros.
    expect(readFileSync(join(payload, 'usr/bin/openssl'), 'utf8').split('\n')).toEqual(
      expect.arrayContaining(['linux-aarch64', 'enable-ec_nistp_64_gcc_128', 'enable-devcryptoeng']),
    );
  });

  it('a refused version (OpenSSL 4) fails before anything runs and leaves out/ alone', async () => {
    const top = tempDir('srpm4');
    mkdirSync(join(top, 'SPECS'), { recursive: true });
    writeFileSync(join(top, 'SPECS', 'openssl.spec'), readFileSync(SPEC, 'utf8').replace(/^Version: 3\.0\.9$/m, 'Version: 4.0.1'));
    await execa(
      'rpmbuild',
      [
        '-bs',
        '--define',
        `_topdir ${top}`,
        '--define',
        'dist %{nil}',
        '--nodeps',
        '--define',
        '_sourcedir /nonexistent',
        '--define',
        'sourcedir /nonexistent',
        join(top, 'SPECS', 'openssl.spec'),
      ],
      { reject: false },
    );
    const built = existsSync(join(top, 'SRPMS')) ? readdirSync(join(top, 'SRPMS')) : [];
    // rpmbuild -bs needs the sources; make empty ones if it refused.
    let srpm4 = built[0] ? join(top, 'SRPMS', built[0]) : undefined;
    if (!srpm4) {
      mkdirSync(join(top, 'SOURCES'), { recursive: true });
      writeFileSync(join(top, 'SOURCES', 'openssl-4.0.1.tar.gz'), '');
      writeFileSync(join(top, 'SOURCES', 'Makefile.certificate'), '');
      await execa('rpmbuild', ['-bs', '--define', `_topdir ${top}`, '--define', 'dist %{nil}', '--nodeps', join(top, 'SPECS', 'openssl.spec')]);
      srpm4 = join(top, 'SRPMS', readdirSync(join(top, 'SRPMS'))[0]!);
    }
    const out = tempDir('ossl-refused');
    const before = snapshot(out);
    const r = await armkit(['build', 'openssl', '--srpm', srpm4, '--arch', 'x86_64', '--out', out]);
    expect(r.exitCode, show(r)).not.toBe(0);
    expect(r.stderr).toContain('OpenSSL 4.0 removed ENGINE support');
    expect(r.stderr).toContain('3.x');
    expect(snapshot(out)).toEqual(before);
  });
});

describe('build openssl --engine mock|copr', () => {
  it('--dry-run prints the whole mock sequence: new source RPM, then mock --rebuild with --forcearch', async () => {
    const r = await armkit(['build', 'openssl', '--srpm', srpm, '--arch', 'aarch64', '--engine', 'mock', '--dry-run']);
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.stdout).toMatch(/^rpmbuild -bs --define '_topdir \S+\/rpmbuild' .*--define 'dist %\{nil\}' .*\S+\/SPECS\/openssl\.spec >> /m);
    expect(r.stdout).toMatch(
      /^mock -r fedora-rawhide-aarch64 --forcearch aarch64 --resultdir \S+\/results --rebuild \S+\/SRPMS\/openssl-3\.0\.9-2\.cryptodev1\.src\.rpm >> /m,
    );
    expect(r.stdout).toMatch(/^rm -rf (\S+\/openssl\/3\.0\.9\/aarch64) && mkdir -p \1 && cp \S+\/results\/\*\.rpm \1\/$/m);
  });

  it('--dry-run prints the whole Copr sequence: submit without waiting, watch, download', async () => {
    const r = await armkit(['build', 'openssl', '--srpm', srpm, '--arch', 'aarch64', '--engine', 'copr', '--copr-project', 'someone/cryptodev', '--dry-run']);
    expect(r.exitCode, show(r)).toBe(0);
    expect(r.stdout).toMatch(
      /^id=\$\(copr-cli build --nowait -r fedora-rawhide-aarch64 someone\/cryptodev \S+\/SRPMS\/openssl-3\.0\.9-2\.cryptodev1\.src\.rpm \| sed -n 's\/\^Created builds\*: \*\/\/p'\) {2}# the build id$/m,
    );
    expect(r.stdout).toMatch(/^copr-cli watch-build "\$id" >> /m);
    expect(r.stdout).toMatch(/^copr-cli download-build -r fedora-rawhide-aarch64 --dest \S+\/results "\$id" >> /m);
    expect(r.stdout).toMatch(/^# needs: rpmbuild rpm copr-cli rpm2cpio cpio$/m);
  });

  it('a host without mock is told so before anything starts, with the install command', async () => {
    const path = tempDir('nomock');
    // Everything armkit needs but mock.
    for (const tool of ['rpm', 'rpmbuild', 'rpmspec', 'rpm2cpio', 'cpio']) {
      const found = ['/usr/bin', '/bin'].map((d) => join(d, tool)).find((p) => existsSync(p))!;
      cpSync(found, join(path, tool), { dereference: true });
    }
    const out = tempDir('nomock-out');
    const r = await armkit(['build', 'openssl', '--srpm', srpm, '--arch', 'aarch64', '--engine', 'mock', '--out', out], { env: { PATH: `${path}` } });
    expect(r.exitCode, show(r)).toBe(4);
    expect(r.stderr).toContain('mock not found: install it with "apt-get install mock" or "dnf install mock"');
    expect(r.stderr).not.toContain('rpmbuild -bs');
    expect(readdirSync(out)).toEqual([]);
  });

  it('copr: submits the new source RPM, watches the build, downloads it and publishes the results', async () => {
    // A recorder in place of copr-cli: logs each call and answers like Copr (build id, then the downloaded RPMs).
    const bin = tempDir('copr-bin');
    const calls = join(bin, 'calls.log');
    writeFileSync(
      join(bin, 'copr-cli'),
      [
        '#!/bin/sh',
        `printf '%s\\n' "$*" >> ${calls}`,
        'case "$1" in',
        '  build) echo "Uploading package $5"; echo "Created builds: 7312345" ;;',
        '  watch-build) echo "Watching build(s): (this may be safely interrupted)"; echo "  7312345: succeeded" ;;',
        '  download-build) dest="$5"; mkdir -p "$dest/$3"; cp "$(dirname "$0")/openssl-3.0.9-2.cryptodev1.fc44.aarch64.rpm" "$dest/$3/" ;;',
        'esac',
        '',
      ].join('\n'),
    );
    chmodSync(join(bin, 'copr-cli'), 0o755);
    // The "downloaded" RPM is a real one, built here for the target.
    const local = tempDir('copr-local');
    const built = await armkit(['build', 'openssl', '--srpm', srpm, '--arch', 'aarch64', '--out', local]);
    expect(built.exitCode, show(built)).toBe(0);
    cpSync(join(local, 'openssl/3.0.9/aarch64/openssl-3.0.9-2.cryptodev1.aarch64.rpm'), join(bin, 'openssl-3.0.9-2.cryptodev1.fc44.aarch64.rpm'));

    const out = tempDir('copr-out');
    const r = await armkit(
      ['build', 'openssl', '--srpm', srpm, '--arch', 'aarch64', '--engine', 'copr', '--copr-project', 'someone/cryptodev', '--out', out, '--json'],
      {
        env: { PATH: `${bin}:${process.env.PATH}`, HOME: coprHome() },
      },
    );
    expect(r.exitCode, show(r)).toBe(0);
    const sent = readFileSync(calls, 'utf8').trim().split('\n');
    expect(sent).toHaveLength(3);
    expect(sent[0]).toMatch(/^build --nowait -r fedora-rawhide-aarch64 someone\/cryptodev \S+\/SRPMS\/openssl-3\.0\.9-2\.cryptodev1\.src\.rpm$/);
    expect(sent[1]).toBe('watch-build 7312345');
    expect(sent[2]).toMatch(/^download-build -r fedora-rawhide-aarch64 --dest \S+\/results 7312345$/);
    const doc = JSON.parse(r.stdout);
    expect(doc.manifest.engine).toBe('copr');
    expect(doc.manifest.artifacts.map((a: { file: string }) => a.file)).toEqual(['openssl-3.0.9-2.cryptodev1.fc44.aarch64.rpm']);
  });

  it('copr without a project, or a chroot for an architecture Fedora dropped, is a usage error', async () => {
    const noProject = await armkit(['build', 'openssl', '--srpm', srpm, '--arch', 'aarch64', '--engine', 'copr']);
    expect(noProject.exitCode, show(noProject)).toBe(2);
    expect(noProject.stderr).toContain('--engine copr needs --copr-project OWNER/PROJECT');
    const armhf = await armkit(['build', 'openssl', '--srpm', srpm, '--arch', 'armv7hl', '--engine', 'mock']);
    expect(armhf.exitCode, show(armhf)).toBe(2);
    expect(armhf.stderr).toContain('Fedora no longer builds for armv7hl: pass --chroot');
  });
});
