/**
 * `armkit build cryptodev` for real: Debian's kernel header packages, the cross compilers, rpmbuild, and the
 * resulting RPMs questioned with rpm, file and modinfo, then installed into a scratch rpm root.
 * The module source is the suite's own (test/fixtures/cryptodev-mini) with cryptodev-linux's build interface.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { armkit, FIXTURE_MODULE, FIXTURE_VERSION, installedAmd64Release, show, tempDir } from '../helpers/cli.js';
import { fileType, installIntoScratchRoot, rpmField, rpmQuery, unpackRpm, vermagic } from '../helpers/rpm.js';

interface Case {
  arch: string;
  kernel: () => string | undefined;
  mode: 'cross' | 'native';
  elf: RegExp;
  vermagicTail: RegExp;
}

const amd64 = installedAmd64Release();

const CASES: Case[] = [
  { arch: 'aarch64', kernel: () => 'debian:latest', mode: 'cross', elf: /ELF 64-bit LSB relocatable, ARM aarch64/, vermagicTail: / aarch64$/ },
  // Debian's armel "marvell" flavour: the Kirkwood kernel of a SheevaPlug.
  { arch: 'armv5tel', kernel: () => 'debian:latest-marvell', mode: 'cross', elf: /ELF 32-bit LSB relocatable, ARM, EABI5/, vermagicTail: / ARMv5 / },
  { arch: 'x86_64', kernel: () => amd64, mode: 'native', elf: /ELF 64-bit LSB relocatable, x86-64/, vermagicTail: /modversions\s*$/ },
];

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

for (const c of CASES) {
  const kernel = c.kernel();
  describe.skipIf(kernel === undefined)(`build cryptodev --arch ${c.arch} (${c.mode}, ${kernel ?? 'no linux-headers-amd64 installed'})`, () => {
    const out = tempDir(`out-${c.arch}`);
    // out/<recipe>/<version>/<arch>/<kernel release>/: the release is known once the build has resolved the kernel.
    let dest: string;
    let result: Awaited<ReturnType<typeof armkit>>;
    let manifest: {
      mode: string;
      arch: string;
      kernel: { release: string };
      source: { sha256: string; verified: boolean };
      artifacts: Array<{ file: string; name: string; version: string; release: string; arch: string; size: number; sha256: string }>;
    };
    let release: string;
    let kmod: string;
    let devel: string;
    let srpm: string;

    beforeAll(async () => {
      result = await armkit([
        'build',
        'cryptodev',
        '--arch',
        c.arch,
        '--kernel',
        kernel!,
        '--source',
        FIXTURE_MODULE,
        '--version',
        FIXTURE_VERSION,
        '--out',
        out,
        '--json',
      ]);
      expect(result.exitCode, show(result)).toBe(0);
      dest = JSON.parse(result.stdout).out;
      manifest = JSON.parse(readFileSync(join(dest, 'manifest.json'), 'utf8'));
      expect(dest).toBe(join(out, 'cryptodev', FIXTURE_VERSION, c.arch, manifest.kernel.release));
      release = manifest.kernel.release;
      const files = readdirSync(dest);
      kmod = join(dest, files.find((f) => f.startsWith('kmod-cryptodev-'))!);
      devel = join(dest, files.find((f) => f.startsWith('cryptodev-linux-devel-'))!);
      srpm = join(dest, files.find((f) => f.endsWith('.src.rpm'))!);
    });

    it('prints one JSON document on stdout that names the published files', () => {
      const doc = JSON.parse(result.stdout);
      expect(doc.ok).toBe(true);
      expect(doc.out).toBe(dest);
      expect(doc.manifest.artifacts.map((a: { file: string }) => a.file).sort()).toEqual(
        readdirSync(dest)
          .filter((f) => f.endsWith('.rpm'))
          .sort(),
      );
    });

    it('publishes the kmod, devel and source RPMs, manifest.json and logs', () => {
      expect(readdirSync(dest).sort()).toEqual(
        [
          `cryptodev-linux-${FIXTURE_VERSION}-1.local.src.rpm`,
          `cryptodev-linux-devel-${FIXTURE_VERSION}-1.local.noarch.rpm`,
          `kmod-cryptodev-${release}-${FIXTURE_VERSION}-1.local.${c.arch}.rpm`,
          'logs',
          'manifest.json',
        ].sort(),
      );
      expect(readdirSync(join(dest, 'logs'))).toContain('rpmbuild.log');
      expect(readFileSync(join(dest, 'logs', 'rpmbuild.log'), 'utf8')).toMatch(/^\$ rpmbuild -ba --target /);
    });

    it('records every artifact with its real size and sha256, the kernel and the mode', () => {
      expect(manifest.mode).toBe(c.mode);
      expect(manifest.arch).toBe(c.arch);
      expect(manifest.source.verified).toBe(false);
      expect(manifest.source.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(manifest.artifacts).toHaveLength(3);
      for (const a of manifest.artifacts) {
        expect(a.sha256).toBe(sha256(join(dest, a.file)));
        expect(a.size).toBe(readFileSync(join(dest, a.file)).length);
        expect(a.version).toBe(FIXTURE_VERSION);
        expect(a.release).toBe('1.local');
      }
      expect(manifest.artifacts.find((a) => a.file.startsWith('kmod-'))).toMatchObject({ name: `kmod-cryptodev-${release}`, arch: c.arch });
      expect(manifest.artifacts.find((a) => a.file.endsWith('.src.rpm'))).toMatchObject({ name: 'cryptodev-linux', arch: 'src' });
    });

    it('makes a kmod RPM for the target arch with the module, autoload file, provides and depmod scriptlets', async () => {
      expect(await rpmField(kmod, 'ARCH')).toBe(c.arch);
      expect(await rpmField(kmod, 'LICENSE')).toBe('GPL-2.0-only');
      const files = (await rpmQuery(kmod, '-l')).split('\n');
      expect(files).toContain(`/lib/modules/${release}/extra/cryptodev/cryptodev.ko`);
      expect(files).toContain('/etc/modules-load.d/cryptodev.conf');
      const provides = await rpmQuery(kmod, '--provides');
      expect(provides).toContain(`kmod(cryptodev.ko) = ${FIXTURE_VERSION}-1.local`);
      expect(provides).toContain(`cryptodev-kmod = ${FIXTURE_VERSION}-1.local`);
      const scripts = await rpmQuery(kmod, '--scripts');
      expect(scripts).toMatch(new RegExp(`postinstall scriptlet[^\\n]*\\n/sbin/depmod -a ${release.replace(/\./g, '\\.')}`));
      expect(scripts).toMatch(new RegExp(`postuninstall scriptlet[^\\n]*\\n/sbin/depmod -a ${release.replace(/\./g, '\\.')}`));
      expect(await rpmQuery(kmod, '--configfiles')).toContain('/etc/modules-load.d/cryptodev.conf');
    });

    it('ships a module built for the target machine and kernel release', async () => {
      const payload = tempDir(`payload-${c.arch}`);
      await unpackRpm(kmod, payload);
      const ko = join(payload, 'lib/modules', release, 'extra/cryptodev/cryptodev.ko');
      expect(await fileType(ko)).toMatch(c.elf);
      const magic = await vermagic(ko);
      expect(magic.split(' ')[0]).toBe(release);
      expect(magic).toMatch(c.vermagicTail);
      expect(readFileSync(join(payload, 'etc/modules-load.d/cryptodev.conf'), 'utf8').split('\n')).toContain('cryptodev');
    });

    it('makes a noarch devel RPM with crypto/cryptodev.h and a rebuildable source RPM', async () => {
      expect(await rpmField(devel, 'ARCH')).toBe('noarch');
      expect((await rpmQuery(devel, '-l')).split('\n')).toContain('/usr/include/crypto/cryptodev.h');
      const srcFiles = (await rpmQuery(srpm, '-l')).split('\n');
      expect(srcFiles).toEqual(expect.arrayContaining(['cryptodev-linux.spec', `cryptodev-linux-${FIXTURE_VERSION}.tar.gz`, 'cryptodev.conf']));
    });

    it('installs into a scratch rpm root', async () => {
      const root = tempDir(`root-${c.arch}`);
      const installed = await installIntoScratchRoot(root, [kmod, devel]);
      expect(installed.split('\n').sort()).toEqual([
        `cryptodev-linux-devel-${FIXTURE_VERSION}-1.local.noarch`,
        `kmod-cryptodev-${release}-${FIXTURE_VERSION}-1.local.${c.arch}`,
      ]);
      expect(existsSync(join(root, 'lib/modules', release, 'extra/cryptodev/cryptodev.ko'))).toBe(true);
      expect(existsSync(join(root, 'usr/include/crypto/cryptodev.h'))).toBe(true);
      expect(readFileSync(join(root, 'etc/modules-load.d/cryptodev.conf'), 'utf8')).toMatch(/^cryptodev$/m);
    });
  });
}
