/**
 * The flags armkit chooses work on a real OpenSSL: the upstream 3.0 tarball from Debian's source package,
 * configured for aarch64 cross compilation with exactly the flags `armkit spec openssl` reports, enables the
 * devcrypto engine in configdata.pm (and without them it is disabled: the check can fail). With the real
 * crypto/cryptodev.h (the devel RPM built from the pinned cryptodev-linux release) the engine is built and must
 * be an aarch64 object; without that header the build is reported as skipped.
 */

import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { findArch } from '../../src/arch.js';
import { armkit, ROOT, show, TEST_CACHE, tempDir } from '../helpers/cli.js';
import { opensslTarball } from '../helpers/openssl-source.js';
import { fileType, unpackRpm } from '../helpers/rpm.js';

const aarch64 = findArch('aarch64');
const PINNED = join(TEST_CACHE, 'sources/67223d5bee47/cryptodev-linux-1.14.tar.gz');

async function configured(tarball: string, flags: string[], extra: string[] = []): Promise<{ tree: string; enabled: boolean }> {
  const dir = tempDir('openssl-tree');
  await execa('tar', ['-xzf', tarball, '-C', dir, '--strip-components=1']);
  await execa('./Configure', [aarch64.openssl, `--cross-compile-prefix=${aarch64.cross[0]!.prefix}`, '--prefix=/usr', ...flags, ...extra], { cwd: dir });
  const r = await execa('perl', ['-I.', '-Mconfigdata', '-e', 'print exists $disabled{devcryptoeng} ? "disabled" : "enabled"'], { cwd: dir });
  return { tree: dir, enabled: String(r.stdout) === 'enabled' };
}

describe('a real OpenSSL 3.0 with the flags armkit chose', () => {
  let tarball: string;
  let flags: string[];

  beforeAll(async () => {
    tarball = await opensslTarball();
    const spec = await armkit(['spec', 'openssl', '--spec', join(ROOT, 'test/fixtures/specs/fedora-style-3.0.9.spec'), '--out', tempDir('spec-out'), '--json']);
    expect(spec.exitCode, show(spec)).toBe(0);
    flags = JSON.parse(spec.stdout).flags;
  });

  it('armkit chose enable-devcryptoeng for 3.0', () => {
    expect(flags).toEqual(['enable-devcryptoeng']);
  });

  it('Configure for aarch64 cross compilation enables the devcrypto engine in configdata.pm only with those flags', async () => {
    const without = await configured(tarball, []);
    expect(without.enabled).toBe(false);
    rmSync(without.tree, { recursive: true, force: true });
    const withFlags = await configured(tarball, flags);
    expect(withFlags.enabled).toBe(true);
    expect(readFileSync(join(withFlags.tree, 'configdata.pm'), 'utf8')).toMatch(/"CROSS_COMPILE" => "aarch64-linux-gnu-"/);
    rmSync(withFlags.tree, { recursive: true, force: true });
  });

  describe.skipIf(!existsSync(PINNED))(
    `with the real crypto/cryptodev.h (${existsSync(PINNED) ? 'cryptodev-linux 1.14 cached' : `skipped: ${PINNED} is absent, and only cryptodev-linux's own header builds the engine`})`,
    () => {
      it('builds engines/devcrypto.so for aarch64', async () => {
        const out = tempDir('cdev-for-openssl');
        const cdev = await armkit(['build', 'cryptodev', '--arch', 'aarch64', '--kernel', 'debian:latest', '--out', out, '--json']);
        expect(cdev.exitCode, show(cdev)).toBe(0);
        const dest = JSON.parse(cdev.stdout).out as string;
        const devel = readdirSync(dest).find((f) => f.startsWith('cryptodev-linux-devel-'))!;
        const header = tempDir('cdev-header');
        await unpackRpm(join(dest, devel), header);
        const { tree, enabled } = await configured(tarball, flags, [`-I${join(header, 'usr/include')}`]);
        expect(enabled).toBe(true);
        // 3.0 builds engines with the modules (build_modules), after libcrypto.
        await execa('make', ['-j2', 'build_modules'], { cwd: tree });
        const engine = join(tree, 'engines', 'devcrypto.so');
        expect(await fileType(engine)).toMatch(/^ELF 64-bit LSB shared object, ARM aarch64/);
        const symbols = String((await execa(`${aarch64.cross[0]!.prefix}nm`, ['-D', '--defined-only', engine])).stdout);
        expect(symbols).toMatch(/ T bind_engine$/m);
        rmSync(tree, { recursive: true, force: true });
      }, 1_200_000);
    },
  );
});
