/**
 * The whole chain on real inputs: cryptodev-linux 1.14 (pinned archive in the cache), upstream OpenSSL 3.0 (Debian's
 * orig tarball) in a source RPM made from a small spec of the suite's own (Fedora's layout: openssl + openssl-libs,
 * ./Configure with ${sslarch}), `armkit build openssl` cross-compiling it for aarch64 with the engine, and
 * `armkit test --openssl-from` proving in the guest that the engine lists its algorithms and that an encryption
 * through /dev/crypto gives NIST's answer and decrypts in software. Skipped, with the reason, without the pinned
 * cryptodev-linux archive (only its real header and module make the engine).
 */

import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { armkit, show, TEST_CACHE, tempDir } from '../helpers/cli.js';
import { opensslTarball, opensslTestSpec, tarballVersion } from '../helpers/openssl-source.js';
import { fileType, unpackRpm } from '../helpers/rpm.js';

const PINNED = join(TEST_CACHE, 'sources/67223d5bee47/cryptodev-linux-1.14.tar.gz');

describe.skipIf(!existsSync(PINNED))(
  `openssl through the engine in an aarch64 guest (${existsSync(PINNED) ? 'cryptodev-linux 1.14 cached' : `skipped: ${PINNED} is absent`})`,
  () => {
    it('builds OpenSSL with the devcrypto engine and proves it offloads AES through /dev/crypto', async () => {
      const out = tempDir('e2e');
      const cdev = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', '--out', out, '--json']);
      expect(cdev.exitCode, show(cdev)).toBe(0);
      const cdevDest = JSON.parse(cdev.stdout).out as string;

      const tarball = await opensslTarball();
      const version = tarballVersion(tarball);
      const top = tempDir('ossl-srpm');
      for (const d of ['SOURCES', 'SPECS']) mkdirSync(join(top, d));
      copyFileSync(tarball, join(top, 'SOURCES', `openssl_${version}.orig.tar.gz`));
      writeFileSync(join(top, 'SPECS', 'openssl.spec'), opensslTestSpec(version));
      await execa('rpmbuild', ['-bs', '--define', `_topdir ${top}`, '--define', 'dist %{nil}', '--nodeps', join(top, 'SPECS', 'openssl.spec')]);
      const srpm = join(top, 'SRPMS', readdirSync(join(top, 'SRPMS'))[0]!);

      const built = await armkit(['build', 'openssl', '--srpm', srpm, '--arch', 'aarch64', '--cryptodev-from', cdevDest, '--out', out, '--json']);
      expect(built.exitCode, show(built)).toBe(0);
      const osslDest = JSON.parse(built.stdout).out as string;
      const libs = readdirSync(osslDest).find((f) => f.startsWith('openssl-libs-'))!;
      expect(libs).toBe(`openssl-libs-${version}-1.cryptodev1.aarch64.rpm`);
      const payload = tempDir('ossl-libs');
      await unpackRpm(join(osslDest, libs), payload);
      expect(await fileType(join(payload, 'usr/lib64/engines-3/devcrypto.so'))).toMatch(/^ELF 64-bit LSB shared object, ARM aarch64/);
      expect(existsSync(join(payload, 'etc/pki/tls/devcrypto.cnf'))).toBe(true);

      const test = await armkit(['test', 'cryptodev', '--arch', 'aarch64', '--from', cdevDest, '--openssl-from', osslDest, '--json']);
      expect(test.exitCode, show(test)).toBe(0);
      const checks = Object.fromEntries((JSON.parse(test.stdout).results as Array<{ name: string; status: string; detail?: string }>).map((r) => [r.name, r]));
      expect(checks['openssl-engine']).toMatchObject({ status: 'pass' });
      expect(checks['openssl-engine']!.detail).toContain('AES-128-CBC');
      expect(checks['openssl-config']).toMatchObject({ status: 'pass', detail: '/etc/pki/tls/devcrypto.cnf, section [openssl_init]' });
      expect(checks['openssl-roundtrip']).toMatchObject({ status: 'pass' });
      expect(checks['openssl-roundtrip']!.detail).toMatch(
        /^AES-128-CBC through \/dev\/crypto \(\d+ cryptodev messages from openssl\) = NIST F\.2\.1, decrypted in software$/,
      );
      expect(checks['kat-aes-128-cbc']).toMatchObject({ status: 'pass' });
    }, 2_400_000);
  },
);
